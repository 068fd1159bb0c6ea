"""A local JVM maps the classes it loads from the installation's class archive (`batchlake class-archive`, run by
`make setup`), named after the Java and the Spark jars it was built from (docs/decisions/0511-class-archive.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from batchlake.commands import class_archive
from batchlake.errors import UserError
from batchlake_transforms.report import RunSummary
from batchlake_transforms.spark import (
    CLASS_ARCHIVE_DUMP_ENV,
    CLASS_ARCHIVE_ENV,
    class_archive_options,
    class_archive_path,
    maps_class_archive,
)
from rich.console import Console


def fake_installation(root: Path, monkeypatch) -> tuple[Path, Path]:
    """A JAVA_HOME and a SPARK_HOME with one jar each; returns (the JDK's class image, the jar)."""
    modules, jar = root / "jdk/lib/modules", root / "spark/jars/spark-core.jar"
    for file in (root / "jdk/bin/java", modules, jar):
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"v1")
    monkeypatch.setenv("JAVA_HOME", str(root / "jdk"))
    monkeypatch.setenv("SPARK_HOME", str(root / "spark"))
    return modules, jar


def test_the_archive_is_named_after_the_java_and_the_spark_jars(tmp_path, monkeypatch):
    modules, jar = fake_installation(tmp_path, monkeypatch)
    first = class_archive_path()
    assert first == class_archive_path()
    assert first.parent == Path(sys.prefix, "share", "batchlake") and first.name.startswith("spark-classes-")

    jar.write_bytes(b"v2 of the jar")  # another Spark
    after_spark = class_archive_path()
    modules.write_bytes(b"v2 of the JDK")  # another Java
    after_java = class_archive_path()
    stat = jar.stat()
    os.utime(jar, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # the same size, reinstalled
    after_reinstall = class_archive_path()
    assert len({first, after_spark, after_java, after_reinstall}) == 4


def test_sessions_start_without_the_archive_when_told(tmp_path, monkeypatch):
    archive = tmp_path / "spark-classes.jsa"
    archive.write_bytes(b"archive")
    monkeypatch.setattr("batchlake_transforms.spark.class_archive_path", lambda: archive)
    assert class_archive_options() == [f"-XX:SharedArchiveFile={archive}"]
    monkeypatch.setenv(CLASS_ARCHIVE_ENV, "off")
    assert class_archive_options() == []


@pytest.mark.spark
def test_the_test_session_maps_the_archive_make_setup_built(spark):
    archive = class_archive_path()
    assert archive.exists(), f"no class archive for this installation: run `batchlake class-archive` ({archive})"
    assert maps_class_archive(spark)


DUMP_THEN_MAP = """
import json, sys
from pathlib import Path
import batchlake_transforms.spark as spark_module

def session(work):
    spark = spark_module.local_spark_session(work, small_input=True)
    spark.range(3).selectExpr("sum(id)").collect()
    return spark

spark_module.stop_local_spark(session(sys.argv[1] + "/dump"))  # the archive is written as the JVM exits
archive = Path(sys.argv[2])
written = archive.exists()
del spark_module.os.environ[spark_module.CLASS_ARCHIVE_DUMP_ENV]
spark_module.class_archive_path = lambda: archive
spark = session(sys.argv[1] + "/map")
print(json.dumps({"written": written, "mapped": spark_module.maps_class_archive(spark)}))
spark_module.stop_local_spark(spark)
"""


@pytest.mark.spark
@pytest.mark.slow
def test_a_jvm_writes_the_archive_at_exit_and_the_next_one_maps_it(tmp_path):
    archive = tmp_path / "classes.jsa"
    out = subprocess.run(
        [sys.executable, "-c", DUMP_THEN_MAP, str(tmp_path), str(archive)],
        env=os.environ | {CLASS_ARCHIVE_DUMP_ENV: str(archive)},
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == '{"written": true, "mapped": true}'
    # The classes the JVM leaves out are listed in a log beside the archive, not on the job's output.
    assert "[cds]" not in out.stdout
    assert "Skipping" in Path(f"{archive}.log").read_text()


def summary(dataset: str, published: bool) -> RunSummary:
    return RunSummary(dataset, run_id="r1", environment="local", started_at="2025-12-01T00:00:00Z", published=published)


@pytest.fixture
def target(tmp_path, monkeypatch) -> Path:
    """The archive's place, with an archive of an earlier Java or Spark beside it; the check's session faked."""
    path = tmp_path / "share/spark-classes-new.jsa"
    path.parent.mkdir(parents=True)
    (path.parent / "spark-classes-old.jsa").write_bytes(b"earlier")
    monkeypatch.setattr("batchlake_transforms.spark.class_archive_path", lambda: path)
    monkeypatch.setattr("batchlake_transforms.spark.local_spark_session", lambda *args, **kwargs: "session")
    monkeypatch.setattr("batchlake_transforms.spark.stop_local_spark", lambda spark: None)
    monkeypatch.setattr("batchlake_transforms.spark.maps_class_archive", lambda spark: path.exists())
    return path


def fake_demo(writes: bool = True, published: bool = True, raises: bool = False):
    def run_demo(env, contracts, orders, customers, console):
        Path(os.environ[CLASS_ARCHIVE_DUMP_ENV] + ".log").write_text("Skipping …")  # opened as the JVM starts
        if writes:  # written as the JVM exits
            Path(os.environ[CLASS_ARCHIVE_DUMP_ENV]).write_bytes(b"archive")
        if raises:
            raise KeyboardInterrupt
        return [summary(c, published) for c in ("customers", "orders")]

    return run_demo


def build(repo_root: Path, **options) -> Path:
    return class_archive.build_class_archive(repo_root / "pipelines", Console(quiet=True), **options)


def test_the_archive_is_moved_into_place_once_written_and_earlier_ones_removed(target, repo_root, monkeypatch):
    monkeypatch.setattr(class_archive, "run_demo", fake_demo())
    assert build(repo_root) == target
    assert target.read_bytes() == b"archive"
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no build folder, log or earlier archive
    assert CLASS_ARCHIVE_DUMP_ENV not in os.environ


@pytest.mark.parametrize(
    "demo, error, left",
    [
        (fake_demo(writes=False), "no class archive", {class_archive.FAILURE_LOG}),
        (fake_demo(published=False), "failed for customers, orders", set()),
        (fake_demo(raises=True), None, set()),
    ],
    ids=["not-written", "run-failed", "interrupted"],
)
def test_a_failed_build_leaves_no_archive(target, repo_root, monkeypatch, demo, error, left):
    monkeypatch.setattr(class_archive, "run_demo", demo)
    with pytest.raises(UserError if error else KeyboardInterrupt, match=error):
        build(repo_root)
    # The earlier archive is removed only once a new one is in use; the JVM's log kept where no archive was written.
    assert {p.name for p in target.parent.iterdir()} == {"spark-classes-old.jsa"} | left
    assert CLASS_ARCHIVE_DUMP_ENV not in os.environ


def test_an_archive_no_session_maps_is_removed(target, repo_root, monkeypatch):
    monkeypatch.setattr(class_archive, "run_demo", fake_demo())
    monkeypatch.setattr("batchlake_transforms.spark.maps_class_archive", lambda spark: False)
    with pytest.raises(UserError, match="did not map"):
        build(repo_root)
    assert {p.name for p in target.parent.iterdir()} == {"spark-classes-old.jsa"}


def test_an_existing_archive_is_built_again_only_when_forced(target, repo_root, monkeypatch):
    target.write_bytes(b"built before")
    monkeypatch.setattr(class_archive, "run_demo", fake_demo())
    build(repo_root)
    assert target.read_bytes() == b"built before"
    build(repo_root, force=True)
    assert target.read_bytes() == b"archive"
