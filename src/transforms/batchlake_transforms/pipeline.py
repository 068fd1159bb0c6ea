"""The transform side of a run, shared by the local runner and the AWS Glue entry point:

pending raw runs → transform to staging → validate → publish (or reject) → summary fields filled in.

Storage, catalog registration and progress output are passed in, so the same steps run against a local lake with
the SQLite catalog and against S3 with the Glue Data Catalog.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from batchlake_core.catalog.tables import ProcessedCatalog
from batchlake_core.contract import DatasetContract
from batchlake_core.errors import UserError
from batchlake_core.layout import Lake
from batchlake_core.storage import ObjectStore
from pyspark.sql import SparkSession

from batchlake_transforms.bookmarks import pending_raw_runs, verify_raw_files
from batchlake_transforms.data_docs import write_data_docs
from batchlake_transforms.io import spark_path
from batchlake_transforms.job import transform_dataset
from batchlake_transforms.publish import PublishPlan, discard_staging, publish_partitions
from batchlake_transforms.quality import References, validate
from batchlake_transforms.report import REPORT_NAME, SUMMARY_NAME, RunSummary, render_html
from batchlake_transforms.schema import processed_schema

Stage = Callable[[str], AbstractContextManager[None]]
Log = Callable[[str], None]


DISK_FULL = "No space left on device"


class DiskFullError(UserError):
    """The disk filled up while Spark wrote a run's output (the published data and the bookmark are untouched)."""


@contextmanager
def disk_full_as_user_error(spark: SparkSession, where: str) -> Iterator[None]:
    """A Spark job that fails on a full disk becomes one line; any other failure passes through unchanged."""
    try:
        yield
    except Exception as e:  # Py4JJavaError or a pyspark captured error: the JVM's exception chain is in its text
        if DISK_FULL not in str(e):
            raise
        scratch = spark.conf.get("spark.local.dir", None)
        where += f" or Spark's scratch space {scratch}" if scratch else ""
        raise DiskFullError(f"disk full while writing {where} ({DISK_FULL}): free space and rerun") from None


def timed_stages(summary: RunSummary) -> Stage:
    """The default `stage`: records each stage's seconds in the summary."""

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            summary.stage_seconds[name] = round(time.perf_counter() - start, 3)

    return stage


def reference_frames(
    spark: SparkSession, contract: DatasetContract, lake: Lake, tables: ProcessedCatalog
) -> References:
    """The published keys of every dataset a `references` expectation points at (never published ones are left
    out), read from the folders the catalog names: a publish of that dataset running meanwhile is not seen half-done."""
    references: References = {}
    for e in contract.quality:
        if e.expect != "references" or not e.dataset or not e.dataset_column:
            continue
        if folders := tables.published_folders(e.dataset):
            root = spark_path(lake.processed_dataset(e.dataset))  # a referenced partition key is read too
            frame = spark.read.option("basePath", root).parquet(*(spark_path(f) for f in folders.values()))
            references[(e.dataset, e.dataset_column)] = frame.select(e.dataset_column)
    return references


def refuse_changed_partition_keys(contract: DatasetContract, tables: ProcessedCatalog) -> None:
    """A published table keeps the partition keys it was first published with. New keys would put this run's rows in
    new partitions beside the old ones: the same record twice, and partitions of two layouts in one table."""
    published = tables.partition_keys(contract.dataset)
    wanted = [(p.name, p.type) for p in contract.schema.partition_keys]
    if published is None or wanted == published:  # the contract's names and types are lower case already
        return

    def describe(keys: list[tuple[str, str]]) -> str:
        return ", ".join(f"{n} ({t})" for n, t in keys) or "nothing (unpartitioned)"

    raise UserError(
        f"{contract.dataset}: the contract partitions by {describe(wanted)}, the published table by "
        f"{describe(published)}; a published table cannot be re-partitioned in place: restore schema.partition_keys, "
        "or publish the new layout as a new dataset (a new contract file and name)"
    )


def transform_validate_publish(
    get_spark: Callable[[int], SparkSession],
    contract: DatasetContract,
    lake: Lake,
    store: ObjectStore,
    summary: RunSummary,
    tables: ProcessedCatalog,
    stage: Stage | None = None,
    log: Log = lambda message: None,
) -> None:
    """Process every raw run not yet published; fill `summary` with counts, quality outcome and publish status.

    `get_spark(records)` is called only when there is something to transform, so a run without new data starts no
    JVM; `records` is how many raw records are pending (a local runner sizes its JVM by it).
    """
    stage = stage or timed_stages(summary)
    dataset = contract.dataset
    pending = pending_raw_runs(lake, store, dataset)
    summary.raw_runs = [r.run_id for r in pending]
    pending_records = sum(r.records for r in pending)
    if pending_records == 0:
        summary.status, summary.published = "no new data", True
        summary.reason = "no raw records since the last published run: the processed zone is up to date"
        log(summary.reason)
        return

    verify_raw_files(store, pending)
    refuse_changed_partition_keys(contract, tables)
    published = tables.published_folders(dataset)
    if any(folder.rsplit("/", 1)[-1] == summary.run_id for folder in published.values()):
        # its version folders would be the ones readers use now: the publish would write into them
        raise UserError(f"run id {summary.run_id} has published {dataset} already: give each run a new id")
    spark = get_spark(pending_records)
    staging = lake.staging_run(dataset, summary.run_id)
    with stage("transform"), disk_full_as_user_error(spark, f"the staged output {staging}"):
        result = transform_dataset(spark, contract, lake, summary.run_id, pending, published)
    summary.records_read, summary.records_processed = result.records_in, result.records_processed
    summary.records_duplicate, summary.records_quarantined = result.records_duplicate, result.records_quarantined
    summary.rows_per_partition = result.rows_per_partition
    summary.quarantine_uri, summary.quarantine_reasons = result.quarantine_uri, result.quarantine_reasons
    log(
        f"{result.records_in:,} read → {result.records_processed:,} processed, "
        f"{result.records_duplicate:,} duplicates, {result.records_quarantined:,} quarantined, "
        f"{len(result.partitions):,} partitions staged"
    )

    with stage("validate"):
        schema = processed_schema(contract)
        # Every record quarantined: nothing was staged, and the expectations judge an empty table.
        staged = (
            spark.read.schema(schema).parquet(spark_path(result.staging_uri))
            if result.partitions
            else spark.createDataFrame([], schema)
        )
        references = reference_frames(spark, contract, lake, tables)
        quality = validate(staged, contract, references, run_name=summary.run_id)
        summary.add_quality(quality)
    log(f"{quality.passed} expectations passed, {quality.failed} failed")
    with stage("data_docs"):
        summary.data_docs_index = write_data_docs(quality, lake.report_dir(dataset, summary.run_id), store)

    if not quality.publishable:
        with stage("reject"):
            discard_staging(store, result.staging_uri)
        failed = "; ".join(o.description for o in quality.blocking_failures)
        summary.status, summary.published = "rejected", False
        summary.reason = f"error-severity expectations failed: {failed}. Nothing was published."
        log(f"rejected: {summary.reason}")
        return

    with stage("publish"):
        plan = PublishPlan(
            dataset=dataset,
            run_id=summary.run_id,
            staging_uri=result.staging_uri,
            processed_uri=lake.processed_dataset(dataset),
            partitions=result.partitions,
            raw_runs=summary.raw_runs,
            lineage={"run_id": summary.run_id, "raw_runs": summary.raw_runs, "versions": summary.versions},
        )
        publish_partitions(plan, contract, lake, store, tables)
        summary.status, summary.published, summary.partitions_published = "published", True, result.partitions
    log(f"published {len(result.partitions):,} partitions")


def write_run_report(summary: RunSummary, lake: Lake, store: ObjectStore) -> str:
    """`reports/<dataset>/<run_id>/summary.json` and `report.html`; returns the report's URI."""
    report_dir = lake.report_dir(summary.dataset, summary.run_id)
    store.put_bytes(f"{report_dir}/{SUMMARY_NAME}", summary.to_json().encode(), "application/json")
    html = render_html(summary, report_dir).encode()
    store.put_bytes(f"{report_dir}/{REPORT_NAME}", html, "text/html; charset=utf-8")
    return f"{report_dir}/{REPORT_NAME}"
