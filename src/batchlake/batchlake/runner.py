"""The local orchestrator: `batchlake run` runs each dataset's stages in order.

ingest → crawl raw → transform (new raw runs only, to staging) → validate → publish or reject → queries → report.
On AWS the same stages are a Glue workflow (see modules/glue_pipeline); here the CLI runs them.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from batchlake_core import faults
from batchlake_core.catalog.tables import ProcessedCatalog
from batchlake_core.contract import ContractError, DatasetContract
from batchlake_core.layout import new_run_id
from batchlake_core.versions import package_versions
from batchlake_ingest.pipeline import ingest_dataset
from batchlake_transforms.pipeline import refuse_changed_partition_keys, transform_validate_publish, write_run_report
from batchlake_transforms.publish import discard_leftovers_of_killed_runs, resume_publish
from batchlake_transforms.report import RunSummary
from rich.console import Console

from batchlake.console import make_console
from batchlake.crawler import crawl_raw
from batchlake.environment import Environment
from batchlake.errors import UserError
from batchlake.query import engine_for_environment

PACKAGES = ("batchlake-core", "batchlake-ingest", "batchlake-transforms", "batchlake")


class DatasetsFailed(UserError):
    """Datasets of a run failed (the others ran): one line naming each failure; `summaries` has every dataset's run."""

    def __init__(self, errors: list[UserError], summaries: list[RunSummary]) -> None:
        many = f"{len(errors)} datasets failed: " if len(errors) > 1 else ""
        super().__init__(many + "; ".join(str(e) for e in errors))
        self.summaries = summaries


def dependency_order(contracts: list[DatasetContract]) -> list[DatasetContract]:
    """Datasets referenced by another dataset's `references` expectation run first."""
    by_name = {c.dataset: c for c in contracts}
    ordered: list[DatasetContract] = []
    visiting: set[str] = set()

    def visit(c: DatasetContract) -> None:
        if c in ordered:
            return
        if c.dataset in visiting:
            raise UserError(f"datasets reference each other in a cycle through {c.dataset}")
        visiting.add(c.dataset)
        for e in c.quality:
            if e.expect == "references" and e.dataset in by_name:
                visit(by_name[e.dataset])
        visiting.discard(c.dataset)
        ordered.append(c)

    for c in contracts:
        visit(c)
    return ordered


@contextmanager
def dataset_lock(env: Environment, dataset: str, console: Console) -> Iterator[None]:
    """One run per dataset at a time: a second `batchlake run` of the same dataset waits for the first."""
    if not env.is_local:
        yield
        return
    path = Path(env.lake.state_dir(dataset)) / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            console.print(f"[yellow]{dataset}: another run of this dataset is in progress; waiting for it to finish")
            fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class PipelineRunner:
    """Runs datasets end to end in one environment, sharing one Spark session."""

    def __init__(self, env: Environment, repo_root: Path, console: Console | None = None) -> None:
        self.env = env
        self.repo_root = repo_root
        self.console = console or make_console(stderr=True)
        self._spark = None
        self._small_input = False

    # -- shared resources --------------------------------------------------------------------
    def spark(self, records: int):
        """The run's Spark session, started for `records` pending records (its JVM is sized by the input).

        A session started for a small dataset is restarted when a large one follows.
        """
        from batchlake_transforms.spark import JavaMissingError, is_small_input, local_spark_session

        small_input = is_small_input(records)
        if self._spark is not None and self._small_input and not small_input:
            self.console.print(f"[dim]restarting Spark sized for {records:,} records …")
            self.close()
        if self._spark is None:
            self.console.print("[dim]starting Spark local[*] …")
            try:
                self._spark = local_spark_session(
                    self.env.lake_root / ".spark" if self.env.lake_root else ".spark", small_input=small_input
                )
            except JavaMissingError as e:
                raise UserError(str(e)) from None
            self._small_input = small_input
        return self._spark

    def close(self) -> None:
        if self._spark is not None:
            from batchlake_transforms.spark import stop_local_spark

            stop_local_spark(self._spark)
            self._spark = None

    # -- one dataset -------------------------------------------------------------------------
    def run(self, contracts: list[DatasetContract]) -> list[RunSummary]:
        """Run each dataset, referenced ones first. One that fails with a UserError does not stop the others: they
        run, and then `DatasetsFailed` says which failed (a rejected run is not a failure: its summary says so)."""
        summaries, errors = [], []
        for contract in dependency_order(contracts):
            summary, error = self.run_dataset(contract)
            summaries.append(summary)
            errors += [error] if error else []
        if errors:
            raise DatasetsFailed(errors, summaries)
        return summaries

    def run_dataset(self, contract: DatasetContract) -> tuple[RunSummary, UserError | None]:
        """One dataset end to end: its summary, and the error that stopped it (its report says why)."""
        with dataset_lock(self.env, contract.dataset, self.console):
            summary = RunSummary(
                dataset=contract.dataset,
                run_id=new_run_id(),
                environment=self.env.name,
                started_at=_now(),
                versions=package_versions(PACKAGES),
            )
            self.console.rule(f"[bold]{contract.dataset}[/] · run {summary.run_id}")
            try:
                self._stages(contract, summary)
            except (UserError, ContractError) as e:  # ContractError: an expression Spark cannot use, found at transform
                summary.status, summary.reason = "failed", str(e)
                self._write_report(summary)
                prefix = f"{contract.dataset}: "  # some errors name their dataset already
                return summary, UserError(str(e) if str(e).startswith(prefix) else prefix + str(e))
            self._write_report(summary)
            return summary, None

    @contextmanager
    def _stage(self, summary: RunSummary, name: str) -> Iterator[None]:
        self.console.print(f"[cyan]▶ {summary.dataset}: {name}")
        start = time.perf_counter()
        try:
            yield
        finally:
            summary.stage_seconds[name] = round(time.perf_counter() - start, 3)

    def _stages(self, contract: DatasetContract, summary: RunSummary) -> None:
        env, dataset = self.env, contract.dataset

        tables = ProcessedCatalog(env.catalog, env.database)
        refuse_changed_partition_keys(contract, tables)  # before the ingest moves the cursor (the transform checks too)
        recovered = resume_publish(contract, env.lake, env.store, tables)
        if recovered:
            self.console.print(f"[yellow]{dataset}: finished the publish of run {recovered.run_id} interrupted earlier")
        discard_leftovers_of_killed_runs(env.lake, env.store, dataset)
        faults.point("before_ingest")

        with self._stage(summary, "ingest"):
            ingested = ingest_dataset(contract, env.lake, summary.run_id, store=env.store)
            summary.records_ingested = ingested.records
            self.console.print(f"  {ingested.records:,} records in {ingested.pages:,} pages")
        faults.point("after_ingest")

        with self._stage(summary, "crawl"):
            crawl = crawl_raw(contract, env.lake, env.catalog, env.database, store=env.store)
            summary.crawl = {
                "table": crawl.table,
                "new_partitions": len(crawl.new_partitions),
                "schema_changes": crawl.schema_changes,
            }
            for change in crawl.schema_changes:
                self.console.print(f"  [yellow]schema change in raw: {change}")
        faults.point("after_crawl")

        transform_validate_publish(
            self.spark,
            contract,
            env.lake,
            env.store,
            summary,
            tables,
            stage=lambda name: self._stage(summary, name),
            log=lambda message: self.console.print(f"  {message}"),
        )
        faults.point("after_publish")
        if summary.published:
            self._query_stage(contract, summary)

    def _processed_rows(self, dataset: str) -> int:
        """Rows of the dataset's published versions, counted from the Parquet footers."""
        folders = ProcessedCatalog(self.env.catalog, self.env.database).published_folders(dataset).values()
        files = [str(f) for folder in folders for f in Path(folder).rglob("*.parquet")]
        return int(duckdb.execute("SELECT count(*) FROM read_parquet(?)", [files]).fetchone()[0]) if files else 0

    def _query_stage(self, contract: DatasetContract, summary: RunSummary) -> None:
        """Count the processed table, then run the dataset's SQL files like an analyst would."""
        summary.processed_table_rows = self._processed_rows(contract.dataset)
        if not contract.sql or self.env.catalog.get_table(self.env.database, contract.dataset) is None:
            return
        with self._stage(summary, "query"):
            engine = engine_for_environment(self.env)
            try:
                for sql_file in contract.sql:
                    summary.queries.append(self._run_sql_file(engine, sql_file))
            finally:
                engine.close()

    def _run_sql_file(self, engine, sql_file: str) -> dict:
        entry: dict = {"file": sql_file}
        try:
            result = engine.execute((self.repo_root / sql_file).read_text(encoding="utf-8"), origin=sql_file)
            entry |= {
                "query_id": result.query_id,
                "state": result.state,
                "rows": len(result.rows),
                "bytes_scanned": result.bytes_scanned,
                "output_location": result.output_location,
            }
        except (OSError, UserError) as e:
            entry |= {"state": "FAILED", "rows": 0, "error": str(e)}
        self.console.print(f"  {sql_file}: {entry['state']}, {entry['rows']} rows")
        return entry

    def _write_report(self, summary: RunSummary) -> None:
        summary.finished_at = _now()
        write_run_report(summary, self.env.lake, self.env.store)
        history = f"{self.env.lake.state_dir(summary.dataset)}/runs/{summary.run_id}.json"
        brief = {k: v for k, v in asdict(summary).items() if k not in ("expectations", "queries", "rows_per_partition")}
        self.env.store.put_bytes(history, json.dumps(brief, default=str).encode(), "application/json")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
