"""One transform run: new raw runs -> staged partitions (merged with what is published) + quarantine.

Write-audit-publish: this module only *writes to staging*. `quality` audits the staged data and `publish` swaps it
in. Counts reconcile: `records_in = records_processed + records_duplicate + records_quarantined`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from batchlake_core import faults
from batchlake_core.catalog.tables import partition_path
from batchlake_core.contract import DatasetContract
from batchlake_core.errors import UserError
from batchlake_core.layout import Lake
from py4j.protocol import Py4JError
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from batchlake_transforms.bookmarks import RawRun
from batchlake_transforms.clean import (
    ORIGIN,
    RAW,
    REJECT_REASON,
    keep_latest,
    quarantine_records,
    reason_kind,
    split_rejected,
    with_published,
)
from batchlake_transforms.io import (
    read_published,
    read_raw_lines,
    staged_rows_per_partition,
    unlisted_partition_folders,
    write_partitioned,
    write_quarantine,
)
from batchlake_transforms.registry import get_job

log = logging.getLogger(__name__)


@dataclass
class TransformResult:
    dataset: str
    run_id: str
    raw_runs: list[str]
    records_in: int = 0
    records_processed: int = 0
    records_duplicate: int = 0
    records_quarantined: int = 0
    partitions: list[dict[str, str]] = field(default_factory=list)
    rows_per_partition: dict[str, int] = field(default_factory=dict)
    staging_uri: str = ""
    quarantine_uri: str | None = None
    quarantine_reasons: dict[str, int] = field(default_factory=dict)


def transform_dataset(
    spark: SparkSession,
    contract: DatasetContract,
    lake: Lake,
    run_id: str,
    raw_runs: list[RawRun],
    published: dict[str, str],
) -> TransformResult:
    """Transform `raw_runs` into staging, merged with the published rows of the partitions they touch (`published`:
    partition path -> folder of its published version, `ProcessedCatalog.published_folders`)."""
    result = TransformResult(contract.dataset, run_id, [r.run_id for r in raw_runs])
    result.staging_uri = lake.staging_run(contract.dataset, run_id)
    files = [f for r in raw_runs for f in r.files]
    if not files:
        return result

    job = get_job(contract.transform.job)
    rows = job(read_raw_lines(spark, files), contract)
    # Keep the raw line only where quarantine needs it: the stored rows stay close to the typed size.
    rows = rows.withColumn(RAW, F.when(F.col(REJECT_REASON).isNotNull(), F.col(RAW)))
    with _stored_once(rows) as rows:
        good, rejected = split_rejected(rows)
        partition_keys = contract.partition_key_names
        # One pass gives the input count, the quarantine reasons and the partitions the good rows touch.
        good_partition = [F.when(F.col(REJECT_REASON).isNull(), F.col(k)).alias(k) for k in partition_keys]
        touched = []
        for row in rows.groupBy(reason_kind(F.col(REJECT_REASON)), *good_partition).count().collect():
            result.records_in += int(row["count"])
            if row[REJECT_REASON] is None:
                touched.append({k: str(row[k]) for k in partition_keys})
            else:
                reason = row[REJECT_REASON]
                result.quarantine_reasons[reason] = result.quarantine_reasons.get(reason, 0) + int(row["count"])
        result.records_quarantined = sum(result.quarantine_reasons.values())
        result.partitions = sorted(touched, key=partition_path)
        processed_uri = lake.processed_dataset(contract.dataset)
        if unlisted := unlisted_partition_folders(spark, contract, processed_uri, published, result.partitions):
            folders = ", ".join(u.removeprefix("file://") for u in unlisted[:3]) + (" …" if len(unlisted) > 3 else "")
            raise UserError(
                f"{contract.dataset}: the catalog lists no published version of {folders}, but the folder exists: this "
                "run would publish its records there without the ones published before, then delete those. Restore "
                "the partitions in the catalog (MSCK REPAIR TABLE, or ALTER TABLE ADD PARTITION … LOCATION), or delete "
                "the folders to publish them from empty"
            )
        if result.records_quarantined:
            result.quarantine_uri = lake.quarantine_run(contract.dataset, run_id)
            write_quarantine(quarantine_records(rejected), result.quarantine_uri)
        if not result.partitions:  # every record was quarantined: nothing to stage
            return result
        published_rows = read_published(spark, contract, processed_uri, published, result.partitions)
        merged = keep_latest(with_published(good.drop(REJECT_REASON, RAW), published_rows), contract)
        # The rows kept from this run are counted while the staging write runs: no second pass over the merge.
        kept = Observation("kept_from_run")
        output = merged.observe(kept, F.sum(F.col(ORIGIN)).alias("from_run"))
        output = output.select(*contract.column_names, *partition_keys)
        faults.point("before_staging_write")
        write_partitioned(output, contract, result.staging_uri)
        faults.point("after_staging_write")
        result.records_processed = int(kept.get["from_run"] or 0)
        result.records_duplicate = result.records_in - result.records_quarantined - result.records_processed
        result.rows_per_partition = staged_rows_per_partition(spark, contract, result.staging_uri)
    return result


@contextmanager
def _stored_once(rows: DataFrame) -> Iterator[DataFrame]:
    """`rows` computed once and stored, for the counts, the quarantine and the staging write to read; freed on leaving.

    Stored as rows (`localCheckpoint`), not as the columnar cache `persist` builds: docs/decisions/0509-parsed-rows-
    stored-as-rows.md. The frame yielded cannot be read after the block: its lineage is gone with its blocks.

    The blocks are freed when the run ends, staged or stopped by an error (during the parse too), not when the JVM's
    garbage collector finds their RDD: a pipeline transforms its datasets one after the other in one session.
    `DataFrame.unpersist` does not reach a checkpoint; the RDDs stored meanwhile are unpersisted. Freeing them is best
    effort: if the JVM fails it, the run's own outcome (its error, or its staged output) is what counts.
    """
    context = rows.sparkSession.sparkContext._jsc
    stored_before = set(context.getPersistentRDDs().keySet())
    try:
        yield rows.localCheckpoint(eager=True)
    finally:
        try:
            for rdd_id, rdd in context.getPersistentRDDs().items():
                if rdd_id not in stored_before:
                    rdd.unpersist(False)
        except Py4JError as e:
            log.warning("could not free the parsed rows' blocks: %s", str(e).strip().splitlines()[0])
