"""Reading and writing for the transform job — kept apart from the pure transform functions.

Paths are `Lake` URIs: local absolute paths in local[*], `s3://` on Glue (Glue's Spark reads s3:// natively).
"""

from __future__ import annotations

from batchlake_core.catalog.tables import hive_partition_path, partition_path
from batchlake_core.contract import DatasetContract
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from batchlake_transforms.clean import RAW, RAW_RUN_ID
from batchlake_transforms.schema import processed_schema


def spark_path(uri: str) -> str:
    return uri if "://" in uri else f"file://{uri}"


def read_raw_lines(spark: SparkSession, file_uris: list[str]) -> DataFrame:
    """Raw gzip JSONL files -> (`_raw`, `_raw_run_id`). Only files named by committed manifests are passed in."""
    return spark.read.text([spark_path(u) for u in file_uris]).select(
        F.col("value").alias(RAW),
        F.regexp_extract(F.col("_metadata.file_path"), r"run_id=([^/]+)", 1).alias(RAW_RUN_ID),
    )


def read_published(
    spark: SparkSession,
    contract: DatasetContract,
    processed_uri: str,
    published: dict[str, str],
    partitions: list[dict[str, str]],
) -> DataFrame | None:
    """The published rows of the given partitions, or None when none of them is published yet.

    `published` maps each published partition to the folder of its current version, as the catalog says
    (`ProcessedCatalog.published_folders`). Only the folders of the given partitions are read: reading the whole
    table would make every run pay for every partition ever published (184 folders, 1.5 s locally, for a run touching
    8).
    """
    wanted = _partition_paths(contract, partitions)
    folders = [spark_path(published[p]) for p in wanted if p in published]
    if not folders:
        return None
    reader = spark.read.schema(processed_schema(contract)).option("basePath", spark_path(processed_uri))
    return reader.parquet(*folders)


def _partition_paths(contract: DatasetContract, partitions: list[dict[str, str]]) -> list[str]:
    """The partitions' paths under the table (`order_date=2025-06-01`); [""] for an unpartitioned table."""
    return [partition_path(v) for v in partitions] if contract.partition_key_names else [""]


def unlisted_partition_folders(
    spark: SparkSession, contract: DatasetContract, processed_uri: str, published: dict[str, str], partitions
) -> list[str]:
    """The folders of the given partitions that exist although the catalog lists no published version of them (their
    table or partition was dropped, or the catalog restored from an older copy). Their existence is learnt from one
    listing per parent folder (one for a table partitioned by one key), not one request per partition."""
    wanted = _partition_paths(contract, partitions)
    unlisted = [f"{processed_uri}/{p}" if p else processed_uri for p in wanted if p not in published]
    return existing_paths(spark, [spark_path(f) for f in unlisted])


def existing_paths(spark: SparkSession, paths: list[str]) -> list[str]:
    """The given paths that exist, in order: one listing of each distinct parent folder (none if it is missing)."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    parent_and_name = [p.rsplit("/", 1) for p in paths]
    names_in: dict[str, set[str]] = {}
    for parent in dict.fromkeys(parent for parent, _ in parent_and_name):
        folder = jvm.org.apache.hadoop.fs.Path(parent)
        fs = folder.getFileSystem(conf)
        statuses = fs.listStatus(folder) if fs.exists(folder) else []
        names_in[parent] = {status.getPath().getName() for status in statuses}
    return [p for p, (parent, name) in zip(paths, parent_and_name, strict=True) if name in names_in[parent]]


def write_partitioned(df: DataFrame, contract: DatasetContract, uri: str) -> None:
    """Parquet partitioned by the contract's keys, from rows clustered by partition value (`clean.keep_latest`)."""
    keys = contract.partition_key_names
    writer = (df if keys else df.coalesce(1)).write.mode("overwrite").option("compression", "snappy")
    if keys:
        writer = writer.partitionBy(*keys)
    writer.parquet(spark_path(uri))


def staged_rows_per_partition(spark: SparkSession, contract: DatasetContract, uri: str) -> dict[str, int]:
    """Rows per partition (`order_date=2025-06-01` -> n) of a staged output, counted from the Parquet footers."""
    keys = contract.partition_key_names
    staged = spark.read.schema(processed_schema(contract)).parquet(spark_path(uri))
    if not keys:
        return {"": staged.count()}
    counts = staged.groupBy(*keys).count().collect()
    return {hive_partition_path(keys, [str(row[k]) for k in keys]): int(row["count"]) for row in counts}


def write_quarantine(df: DataFrame, uri: str) -> None:
    df.repartition(1).write.mode("overwrite").json(spark_path(uri))
