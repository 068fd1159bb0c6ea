"""`batchlake run` (the pipeline) and `batchlake demo` (the pipeline against the bundled demo API)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from batchlake_core.contract import ContractError, DatasetContract, load_contracts
from rich.table import Table

from batchlake.console import make_console
from batchlake.environment import LOCAL, Environment, resolve_environment
from batchlake.errors import UserError

if TYPE_CHECKING:  # the transforms package imports Spark and Great Expectations: only when a run starts
    from batchlake_transforms.report import RunSummary
    from rich.console import Console

LakeOption = Annotated[
    Path | None, typer.Option("--lake", help="local lake root (default ./.lake, or BATCHLAKE_LAKE)", show_default=False)
]
PipelinesOption = Annotated[Path, typer.Option("--pipelines", help="folder of dataset contracts")]
EnvOption = Annotated[str, typer.Option("--env", help="`local` or a Terraform workspace (dev, staging, prod)")]


def select_contracts(pipelines: Path, datasets: list[str] | None) -> list[DatasetContract]:
    contracts = load_contracts(pipelines)
    if not contracts:
        raise UserError(f"no dataset contracts in {pipelines}/: add one as {pipelines}/<dataset>.yaml")
    if not datasets:
        return list(contracts.values())
    unknown = [d for d in datasets if d not in contracts]
    if unknown:
        raise UserError(f"unknown dataset {', '.join(unknown)}: known datasets are {', '.join(sorted(contracts))}")
    return [contracts[d] for d in datasets]


def check_runnable(contracts: list[DatasetContract], pipelines: Path) -> None:
    """What the contract model cannot check alone, checked before any request: the paginator (its registry is in the
    ingest package) and the transform job (in the transforms package). One line naming the file and field."""
    from batchlake_ingest.paginators import create_paginator
    from batchlake_transforms.registry import get_job

    for contract in contracts:
        where = pipelines / f"{contract.dataset}.yaml"
        try:
            create_paginator(contract.source.paginator.model_dump())
        except UserError as e:
            raise UserError(f"{where}: field 'source.paginator': {e}") from None
        try:
            get_job(contract.transform.job)
        except ContractError as e:
            raise UserError(f"{where}: field 'transform.job': {e}") from None


def run_pipelines(
    env: Environment, contracts: list[DatasetContract], repo_root: Path, console: Console | None = None
) -> list[RunSummary]:
    from batchlake_ingest.logs import configure_logging
    from batchlake_transforms.spark import JavaMissingError, require_java

    from batchlake.runner import PipelineRunner

    configure_logging(json_lines=False, level=logging.WARNING)  # the ingest's retries and recoveries, with details

    if not env.is_local:
        raise UserError(
            f"`batchlake run --env {env.name}` runs on AWS as the Glue workflow of each dataset: "
            "start it with `aws glue start-workflow-run --name <workflow>` (names: `batchlake output`)"
        )
    try:
        require_java()  # fail before any work rather than after ingesting
    except JavaMissingError as e:
        raise UserError(str(e)) from None
    runner = PipelineRunner(env, repo_root, console)
    try:
        return runner.run(contracts)
    finally:
        runner.close()


def print_outcome(env: Environment, summaries: list[RunSummary]) -> None:
    from batchlake_transforms.report import REPORT_NAME, SUMMARY_NAME

    console = make_console()
    table = Table(title="batchlake run", show_lines=False)
    for col in ("dataset", "status", "ingested", "processed", "quarantined", "expectations", "table rows"):
        table.add_column(col, justify="right" if col not in ("dataset", "status") else "left")
    for s in summaries:
        table.add_row(
            s.dataset,
            s.status,
            f"{s.records_ingested:,}",
            f"{s.records_processed:,}",
            f"{s.records_quarantined:,}",
            f"{s.expectations_passed}/{s.expectations_passed + s.expectations_failed}",
            f"{s.processed_table_rows:,}" if s.processed_table_rows is not None else "-",
        )
    console.print(table)
    for s in summaries:
        report_dir = env.lake.report_dir(s.dataset, s.run_id)
        console.print(f"[bold]{s.dataset}[/] report:  {report_dir}/{REPORT_NAME}")
        console.print(f"{' ' * len(s.dataset)} summary: {report_dir}/{SUMMARY_NAME}")
        for q in s.queries:
            if q.get("output_location"):
                console.print(f"{' ' * len(s.dataset)} query:   {q['file']} → {q['output_location']}")
    if queryable := [s.dataset for s in summaries if s.processed_table_rows is not None]:
        example = f"SELECT count(*) FROM {queryable[-1]}"
        console.print(f"Query it yourself: batchlake query --sql '{example}' --lake {env.lake_root}")


def report_outcome(env: Environment, run: Callable[[], list[RunSummary]]) -> None:
    """Run, then print the table of runs and where their reports are; exit 1 if a run was not published. When
    datasets failed (the others ran), the table prints before their error line (exit 2)."""
    from batchlake.runner import DatasetsFailed

    try:
        summaries = run()
    except DatasetsFailed as e:
        print_outcome(env, e.summaries)
        raise
    print_outcome(env, summaries)
    if any(not s.published for s in summaries):
        raise typer.Exit(1)


def run_demo(
    env: Environment, contracts: list[DatasetContract], orders: int, customers: int, console: Console
) -> list[RunSummary]:
    """Start the bundled demo API on 127.0.0.1, run `contracts` against it, stop the API."""
    from batchlake.demo_api.server import DemoApiServer

    console.print(f"starting the demo API ({orders:,} orders, {customers:,} customers) …")
    with DemoApiServer(orders=orders, customers=customers) as api:
        console.print(f"demo API at {api.url}")
        with environ_set("SHOP_API_URL", api.url):
            return run_pipelines(env, contracts, Path.cwd(), console)


@contextmanager
def environ_set(name: str, value: str) -> Iterator[None]:
    """`os.environ[name] = value` while the block runs; the earlier value (or none) back after it."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        datasets: Annotated[list[str] | None, typer.Argument(help="datasets to run (default: all)")] = None,
        env: EnvOption = LOCAL,
        lake: LakeOption = None,
        pipelines: PipelinesOption = Path("pipelines"),
    ) -> None:
        """Run datasets end to end: ingest, crawl, transform, validate, publish, query, report."""
        contracts = select_contracts(pipelines, datasets)
        check_runnable(contracts, pipelines)
        environment = resolve_environment(env, lake)
        report_outcome(environment, lambda: run_pipelines(environment, contracts, Path.cwd()))

    @app.command()
    def demo(
        lake: LakeOption = None,
        pipelines: PipelinesOption = Path("pipelines"),
        orders: Annotated[int, typer.Option(help="orders the demo API serves")] = 100_000,
        customers: Annotated[int, typer.Option(help="customers the demo API serves")] = 20_000,
    ) -> None:
        """Start the bundled demo API on 127.0.0.1, run every dataset against it, stop the API."""
        environment = resolve_environment(LOCAL, lake)
        contracts = select_contracts(pipelines, None)
        check_runnable(contracts, pipelines)
        report_outcome(
            environment, lambda: run_demo(environment, contracts, orders, customers, make_console(stderr=True))
        )
