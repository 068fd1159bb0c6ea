"""`batchlake class-archive`: the JVM class archive local Spark sessions start from (docs/decisions/0511)."""

from __future__ import annotations

import os
import shutil
import tempfile
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


def build_class_archive(pipelines: Path, console: Console, *, force: bool = False) -> Path:
    """Build this installation's class archive from a small demo run, unless it is there; returns its path.

    The JVM writes the archive at exit into a folder of this build, removed whatever happens. The archive is moved
    into place once the run succeeded, then kept only if a new Spark session maps it: a JVM stopped while it wrote
    leaves a file no JVM maps. Archives for an earlier Java or Spark are removed once the new one is in use.
    """
    from batchlake_transforms.spark import (
        CLASS_ARCHIVE_DUMP_ENV,
        CLASS_ARCHIVE_ENV,
        JavaMissingError,
        class_archive_path,
        local_spark_session,
        maps_class_archive,
        stop_local_spark,
    )

    try:
        target = class_archive_path()
    except JavaMissingError as e:
        raise UserError(str(e)) from None
    if target.exists() and not force:
        console.print(f"class archive up to date: {target}")
        return target
    contracts = select_contracts(pipelines, None)
    target.parent.mkdir(parents=True, exist_ok=True)
    earlier = [p for p in target.parent.glob("spark-classes-*.jsa") if p != target]
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
            log = target.parent / FAILURE_LOG
            if Path(f"{written}.log").exists():
                shutil.copyfile(f"{written}.log", log)
            raise UserError(f"the JVM wrote no class archive (see {log}); local Spark runs without one")
        os.replace(written, target)
        with environ_set(CLASS_ARCHIVE_ENV, "on"):  # checked even where sessions are told to start without it
            spark = local_spark_session(Path(build, "check"), app_name="class-archive-check", small_input=True)
        try:
            mapped = maps_class_archive(spark)
        finally:
            stop_local_spark(spark)
    if not mapped:
        target.unlink()
        raise UserError("a Spark session did not map the class archive just built; local Spark runs without one")
    for old in earlier:
        old.unlink(missing_ok=True)
    console.print(f"class archive built: {target} ({target.stat().st_size / 1e6:,.0f} MB)")
    return target


def register(app: typer.Typer) -> None:
    @app.command("class-archive")
    def class_archive(
        pipelines: PipelinesOption = Path("pipelines"),
        force: Annotated[bool, typer.Option("--force", help="build it again even if it is there")] = False,
    ) -> None:
        """Build the JVM class archive local Spark starts from (about 5 s less start-up; `make setup` runs it).

        Sessions start without it when BATCHLAKE_SPARK_CLASS_ARCHIVE=off.
        """
        build_class_archive(pipelines, make_console(stderr=True), force=force)
