"""A local JVM maps the classes it loads from the installation's class archive (`batchlake class-archive`, run by
`make setup`), named after the Java and the Spark jars it was built from (docs/decisions/0511-class-archive.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batchlake.commands import class_archive as command
from batchlake.errors import UserError
from batchlake_transforms.report import RunSummary
from batchlake_transforms.spark import (
    CLASS_ARCHIVE_DUMP_ENV,
    CLASS_ARCHIVE_ENV,
    class_archive_options,
    class_archive_path,
    get_or_create,
    maps_class_archive,
)
from pyspark.errors import PySparkRuntimeError
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


def test_sessions_map_the_installations_archive_another_or_none(tmp_path, monkeypatch):
    installed, other = tmp_path / "spark-classes.jsa", tmp_path / "other.jsa"
    installed.write_bytes(b"archive")
    other.write_bytes(b"archive")
    monkeypatch.setattr("batchlake_transforms.spark.class_archive_path", lambda: installed)
    assert class_archive_options() == [f"-XX:SharedArchiveFile={installed}"]
    monkeypatch.setenv(CLASS_ARCHIVE_ENV, str(other))
    assert class_archive_options() == [f"-XX:SharedArchiveFile={other}"]
    monkeypatch.setenv(CLASS_ARCHIVE_ENV, "off")
    assert class_archive_options() == []
    monkeypatch.setenv(CLASS_ARCHIVE_DUMP_ENV, str(tmp_path / "new.jsa"))  # the build's JVM writes one whatever
    assert class_archive_options()[0] == f"-XX:ArchiveClassesAtExit={tmp_path / 'new.jsa'}"
    monkeypatch.delenv(CLASS_ARCHIVE_DUMP_ENV)
    monkeypatch.delenv(CLASS_ARCHIVE_ENV)
    installed.unlink()  # not built (yet) for this Java and Spark
    assert class_archive_options() == []


@pytest.mark.spark
def test_the_test_session_maps_the_archive_make_setup_built(spark):
    if os.environ.get(CLASS_ARCHIVE_ENV):
        pytest.skip(f"{CLASS_ARCHIVE_ENV} chooses the archive")
    archive = class_archive_path()
    assert archive.exists(), f"no class archive for this installation: run `batchlake class-archive` ({archive})"
    assert maps_class_archive(spark, archive) is True


DUMP_THEN_CHECK = """
import json, shutil, sys
from pathlib import Path
from batchlake.commands.class_archive import session_maps
import batchlake_transforms.spark as spark_module

work, archive = Path(sys.argv[1]), Path(sys.argv[2])
spark = spark_module.local_spark_session(work / "dump", small_input=True)
spark.range(3).selectExpr("sum(id)").collect()
spark_module.stop_local_spark(spark)  # the archive is written as the JVM exits
del spark_module.os.environ[spark_module.CLASS_ARCHIVE_DUMP_ENV]
written = archive.exists()
truncated = work / "truncated.jsa"  # as a JVM stopped while writing would leave it
truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
print(json.dumps({
    "written": written,
    "mapped": session_maps(archive, work / "check"),
    "truncated mapped": session_maps(truncated, work / "check-truncated"),  # its JVM crashes, one without it starts
}))
"""


@pytest.mark.spark
@pytest.mark.slow
def test_a_jvm_writes_the_archive_at_exit_and_a_new_session_maps_it_unless_truncated(tmp_path):
    archive = tmp_path / "classes.jsa"
    out = subprocess.run(
        [sys.executable, "-c", DUMP_THEN_CHECK, str(tmp_path), str(archive)],
        env=os.environ | {CLASS_ARCHIVE_DUMP_ENV: str(archive)},
        cwd=tmp_path,  # where the crashed JVM writes its error report
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    last = json.loads(out.stdout.strip().splitlines()[-1])
    assert last == {"written": True, "mapped": True, "truncated mapped": False}
    assert f"Spark's JVM did not start with {tmp_path / 'truncated.jsa'}, and started without it" in out.stderr
    # The crashed JVM's report is in its session's folder, not in the working folder.
    assert list((tmp_path / "check-truncated").glob("hs_err_pid*.log")) and not list(tmp_path.glob("hs_err*"))
    # The classes the JVM leaves out are listed in a log beside the archive, not on the job's output.
    assert "[cds]" not in out.stdout
    assert "Skipping" in Path(f"{archive}.log").read_text()


class FakeBuilder:
    """A session builder whose JVM starts (or not) by its options; records the options of each start."""

    def __init__(self, starts_with_archive: bool, starts_without: bool = True):
        self.starts_with_archive, self.starts_without = starts_with_archive, starts_without
        self.options, self.started = "", []

    def config(self, key, value):
        self.options = value
        return self

    def getOrCreate(self):
        self.started.append(self.options)
        if not (self.starts_with_archive if "SharedArchiveFile" in self.options else self.starts_without):
            raise PySparkRuntimeError(errorClass="JAVA_GATEWAY_EXITED", messageParameters={})
        return "session"


ARCHIVE_OPTIONS = ["-XX:SharedArchiveFile=/venv/share/batchlake/spark-classes-1.jsa"]


def test_a_jvm_that_starts_with_the_archive_is_used_as_it_is(caplog):
    builder = FakeBuilder(starts_with_archive=True)
    assert get_or_create(builder, ["-Xmx1g"], ARCHIVE_OPTIONS) == "session"
    assert builder.started == [f"-Xmx1g {ARCHIVE_OPTIONS[0]}"] and not caplog.records


def test_a_jvm_that_does_not_start_with_the_archive_starts_without_it_and_says_so(caplog):
    builder = FakeBuilder(starts_with_archive=False)
    assert get_or_create(builder, ["-Xmx1g"], ARCHIVE_OPTIONS) == "session"
    assert builder.started == [f"-Xmx1g {ARCHIVE_OPTIONS[0]}", "-Xmx1g"]
    assert "did not start with /venv/share/batchlake/spark-classes-1.jsa" in caplog.text


@pytest.mark.parametrize("archive_options", [ARCHIVE_OPTIONS, []], ids=["with-archive", "without"])
def test_a_jvm_that_does_not_start_at_all_raises_its_first_error_and_blames_no_archive(caplog, archive_options):
    builder = FakeBuilder(starts_with_archive=False, starts_without=False)
    with pytest.raises(PySparkRuntimeError, match="JAVA_GATEWAY_EXITED"):
        get_or_create(builder, ["-Xmx1g"], archive_options)
    assert len(builder.started) == (2 if archive_options else 1) and not caplog.records


def summary(dataset: str, published: bool) -> RunSummary:
    return RunSummary(dataset, run_id="r1", environment="local", started_at="2025-12-01T00:00:00Z", published=published)


@pytest.fixture
def target(tmp_path, monkeypatch) -> Path:
    """The archive's place, with an archive of an earlier Java or Spark beside it."""
    path = tmp_path / "share/spark-classes-new.jsa"
    path.parent.mkdir(parents=True)
    (path.parent / "spark-classes-old.jsa").write_bytes(b"earlier")
    monkeypatch.setattr("batchlake_transforms.spark.class_archive_path", lambda: path)
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


def fake_check(target: Path, outcome: bool | Exception | None = True, seen: list | None = None):
    def session_maps(archive: Path, work_dir: Path):
        if seen is not None:
            seen.append((archive, archive.read_bytes(), target.exists()))
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return session_maps


def build(repo_root: Path, **options) -> Path:
    return command.build_class_archive(repo_root / "pipelines", Console(quiet=True), **options)


@pytest.mark.parametrize("outcome", [True, None], ids=["mapped", "no-proc"])
def test_the_archive_is_checked_then_moved_into_place_and_earlier_ones_removed(target, repo_root, monkeypatch, outcome):
    (target.parent / command.FAILURE_LOG).write_text("an earlier build's")
    killed_build = target.parent / ".build-killed"
    killed_build.mkdir()
    hours_ago = time.time() - 3 * 3600
    os.utime(killed_build, (hours_ago, hours_ago))
    running_build = target.parent / ".build-running"  # another build, now
    running_build.mkdir()
    monkeypatch.setenv(CLASS_ARCHIVE_DUMP_ENV, "set before")
    seen = []
    monkeypatch.setattr(command, "run_demo", fake_demo())
    monkeypatch.setattr(command, "session_maps", fake_check(target, outcome, seen))
    assert build(repo_root) == target
    # Checked where the JVM wrote it, before it took the archive's place.
    [(checked, content, installed_then)] = seen
    assert checked.name == target.name and checked.parent.parent == target.parent
    assert content == b"archive" and installed_then is False
    assert target.read_bytes() == b"archive"
    # No folder of this build or of a killed one, no log, no earlier archive; another build's folder left alone.
    assert sorted(p.name for p in target.parent.iterdir()) == [".build-running", target.name]
    assert os.environ[CLASS_ARCHIVE_DUMP_ENV] == "set before"


@pytest.mark.parametrize(
    "demo, check, error",
    [
        (fake_demo(writes=False), True, "no class archive"),
        (fake_demo(published=False), True, "failed for customers, orders"),
        (fake_demo(raises=True), True, KeyboardInterrupt),
        (fake_demo(), False, "did not map"),
        (fake_demo(), RuntimeError("the JVM refused"), RuntimeError),
    ],
    ids=["not-written", "run-failed", "interrupted", "not-mapped", "check-failed"],
)
@pytest.mark.parametrize("built_before", [False, True], ids=["first", "forced"])
def test_a_failed_build_changes_nothing(target, repo_root, monkeypatch, demo, check, error, built_before):
    if built_before:
        target.write_bytes(b"built before")
    monkeypatch.setattr(command, "run_demo", demo)
    monkeypatch.setattr(command, "session_maps", fake_check(target, check))
    with pytest.raises(UserError if isinstance(error, str) else error, match=error if isinstance(error, str) else None):
        build(repo_root, force=True)
    # The archive in place (if any) and the earlier one stay; the JVM's log kept where no archive was written.
    left = {p.name for p in target.parent.iterdir()}
    assert left == {"spark-classes-old.jsa"} | ({target.name} if built_before else set()) | (
        {command.FAILURE_LOG} if error == "no class archive" else set()
    )
    assert not built_before or target.read_bytes() == b"built before"
    assert CLASS_ARCHIVE_DUMP_ENV not in os.environ


def test_an_existing_archive_is_built_again_only_when_forced(target, repo_root, monkeypatch):
    target.write_bytes(b"built before")
    monkeypatch.setattr(command, "run_demo", fake_demo())
    monkeypatch.setattr(command, "session_maps", fake_check(target))
    build(repo_root)
    assert target.read_bytes() == b"built before"
    build(repo_root, force=True)
    assert target.read_bytes() == b"archive"
