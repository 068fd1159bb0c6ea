"""`batchlake class-archive`: the JVM class archive local Spark sessions start from (docs/decisions/0511)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from batchlake.commands.run import PipelinesOption, environ_set, run_demo, select_contracts
from batchlake.console import make_console
from batchlake.environment import local_environment
from batchlake.errors import UserError

# The demo run the archive is built from: every dataset, small enough for a JVM sized for a small input. The classes a
# run loads do not depend on its size; what a larger run loads besides is loaded as before, from the jars.
BUILD_RUN_ORDERS, BUILD_RUN_CUSTOMERS = 2_000, 500
FAILURE_LOG = "class-archive-build.log"  # beside the archives: the JVM's log of a build that wrote no archive
ABANDONED_AFTER = timedelta(hours=2)  # a build folder this old is a killed build's (a build takes minutes)


def build_class_archive(pipelines: Path, console: Console, *, force: bool = False) -> Path:
    """Build this installation's class archive from a small demo run, unless it is there; returns its path.

    The JVM writes the archive at exit into a folder of this build, removed when the build ends (a killed build's,
    by a later build). The archive is moved into place only after the run succeeded and a new Spark session mapped it
    there. Archives for an earlier Java or Spark are removed once the new one is in place.
    """
    from batchlake_transforms.spark import CLASS_ARCHIVE_DUMP_ENV, JavaMissingError, class_archive_path

    try:
        target = class_archive_path()
    except JavaMissingError as e:
        raise UserError(str(e)) from None
    if target.exists() and not force:
        console.print(f"class archive up to date: {target}")
        return target
    contracts = select_contracts(pipelines, None)
    target.parent.mkdir(parents=True, exist_ok=True)
    failure_log = target.parent / FAILURE_LOG
    failure_log.unlink(missing_ok=True)
    remove_abandoned_builds(target.parent)
    console.print(f"building the class archive from a small demo run (about a minute) → {target}")
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as build:
        written = Path(build, target.name)
        with environ_set(CLASS_ARCHIVE_DUMP_ENV, str(written)):
            env = local_environment(Path(build, "lake"))
            summaries = run_demo(env, contracts, BUILD_RUN_ORDERS, BUILD_RUN_CUSTOMERS, Console(quiet=True))
        failed = [s.dataset for s in summaries if not s.published]
        if failed:
            raise UserError(f"the demo run the class archive is built from failed for {', '.join(failed)}")
        if not written.exists():
            if Path(f"{written}.log").exists():
                shutil.copyfile(f"{written}.log", failure_log)
            raise UserError(f"the JVM wrote no class archive (see {failure_log}); local Spark runs without one")
        # A JVM stopped while it wrote the archive (stop_local_spark's time limit) leaves a file no JVM should map.
        mapped = session_maps(written, Path(build, "check"))
        if mapped is False:
            raise UserError("a Spark session did not map the class archive just built; local Spark runs without one")
        os.replace(written, target)
    for earlier in target.parent.glob("spark-classes-*.jsa"):
        if earlier != target:
            earlier.unlink(missing_ok=True)
    checked = "" if mapped else " (not checked: this system has no /proc)"
    console.print(f"class archive built: {target} ({target.stat().st_size / 1e6:,.0f} MB){checked}")
    return target


def remove_abandoned_builds(folder: Path) -> None:
    """Remove the folders of builds killed before they could (older than ABANDONED_AFTER: not a build running now)."""
    for build in folder.glob(".build-*"):
        if time.time() - build.stat().st_mtime > ABANDONED_AFTER.total_seconds():
            shutil.rmtree(build, ignore_errors=True)


def session_maps(archive: Path, work_dir: Path) -> bool | None:
    """Whether a new local Spark session maps `archive` (None: cannot be seen here)."""
    from batchlake_transforms.spark import CLASS_ARCHIVE_ENV, local_spark_session, maps_class_archive, stop_local_spark

    with environ_set(CLASS_ARCHIVE_ENV, str(archive)):
        spark = local_spark_session(work_dir, app_name="class-archive-check", small_input=True)
    try:
        return maps_class_archive(spark, archive)
    finally:
        stop_local_spark(spark)


def register(app: typer.Typer) -> None:
    @app.command("class-archive")
    def class_archive(
        pipelines: PipelinesOption = Path("pipelines"),
        force: Annotated[bool, typer.Option("--force", help="build it again even if it is there")] = False,
    ) -> None:
        """Build the JVM class archive local Spark starts from (about 5 s less start-up; `make setup` runs it).

        BATCHLAKE_SPARK_CLASS_ARCHIVE=off starts sessions without it; set to a file's path, with that archive.
        """
        build_class_archive(pipelines, make_console(stderr=True), force=force)
