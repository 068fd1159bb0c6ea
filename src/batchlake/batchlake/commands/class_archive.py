"""`batchlake class-archive`: the JVM class archive local Spark sessions start from (docs/decisions/0511)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer
from rich.console import Console

from batchlake.commands.run import PipelinesOption, run_demo, select_contracts
from batchlake.console import make_console
from batchlake.environment import local_environment
from batchlake.errors import UserError

# The run the archive is built from: every demo dataset, small enough for a JVM sized for a small input. The classes a
# run loads do not depend on its size; what a larger run loads besides is loaded as before, from the jars.
TRAINING_ORDERS, TRAINING_CUSTOMERS = 2_000, 500


def build_class_archive(pipelines: Path, console: Console) -> Path:
    """Build this installation's class archive from a small demo run, unless it is there; returns its path.

    The JVM writes the archive at exit to a partial file, renamed into place once complete: an interrupted build leaves
    no archive. Archives built for an earlier Java or Spark are removed.
    """
    from batchlake_transforms.spark import CLASS_ARCHIVE_DUMP_ENV, class_archive_path

    target = class_archive_path()
    if target.exists():
        console.print(f"class archive up to date: {target}")
        return target
    contracts = select_contracts(pipelines, None)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    log = Path(f"{partial}.log")  # the classes the JVM left out, and why
    console.print(f"building the class archive from a small demo run (about a minute) → {target}")
    try:
        with tempfile.TemporaryDirectory(prefix="batchlake-class-archive-") as work:
            os.environ[CLASS_ARCHIVE_DUMP_ENV] = str(partial)
            try:
                env = local_environment(Path(work, "lake"))
                summaries = run_demo(env, contracts, TRAINING_ORDERS, TRAINING_CUSTOMERS, Console(quiet=True))
            finally:
                del os.environ[CLASS_ARCHIVE_DUMP_ENV]
        failed = [s.dataset for s in summaries if not s.published]
        if failed:
            log.unlink(missing_ok=True)
            raise UserError(f"the demo run the class archive is built from failed for {', '.join(failed)}")
        if not partial.exists():
            raise UserError(f"the JVM wrote no class archive (its log: {log}); local Spark runs without one")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    log.unlink(missing_ok=True)
    for old in target.parent.glob("spark-classes-*.jsa"):
        if old != target:
            old.unlink()
    console.print(f"class archive built: {target} ({target.stat().st_size / 1e6:,.0f} MB)")
    return target


def register(app: typer.Typer) -> None:
    @app.command("class-archive")
    def class_archive(pipelines: PipelinesOption = Path("pipelines")) -> None:
        """Build the JVM class archive local Spark starts from (about 5 s less start-up; `make setup` runs it)."""
        build_class_archive(pipelines, make_console(stderr=True))
