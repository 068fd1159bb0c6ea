"""Glue TableInput / PartitionInput builders for batchlake's tables, shaped like what AWS builds.

- processed tables (`<dataset>`): Parquet, columns and partition keys from the contract's schema;
- raw tables (`raw_<dataset>`): gzip JSON lines read with the OpenX JSON SerDe, as an AWS Glue crawler
  creates them (classification `json`, `CrawlerSchema*Version` and size/count parameters).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from batchlake_core.contract import DatasetContract
from batchlake_core.layout import processed_table_name

if TYPE_CHECKING:
    from batchlake_core.catalog.base import Catalog

PARQUET_FORMAT = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "Parameters": {"serialization.format": "1"},
    },
}
JSON_FORMAT = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe", "Parameters": {}},
}
CRAWLER_NAME = "batchlake-crawler"
RAW_PARTITION_KEYS = [{"Name": "ingest_date", "Type": "string"}, {"Name": "run_id", "Type": "string"}]


def folder(location: str) -> str:
    """Glue locations of tables and partitions are folders: always one trailing slash."""
    return location.rstrip("/") + "/"


def storage_descriptor(columns: list[dict[str, str]], location: str, fmt: dict[str, Any]) -> dict[str, Any]:
    return {
        "Columns": columns,
        "Location": folder(location),
        "InputFormat": fmt["InputFormat"],
        "OutputFormat": fmt["OutputFormat"],
        "Compressed": False,
        "NumberOfBuckets": -1,
        "SerdeInfo": copy.deepcopy(fmt["SerdeInfo"]),
        "BucketColumns": [],
        "SortColumns": [],
        "Parameters": {},
        "StoredAsSubDirectories": False,
    }


def partition_input(table: dict[str, Any], values: list[str], location: str, parameters: dict[str, str] | None = None):
    """A partition of `table` (TableInput or table) stored at `location`, inheriting its storage descriptor."""
    sd = copy.deepcopy(table["StorageDescriptor"])
    sd["Location"] = folder(location)
    return {"Values": list(values), "StorageDescriptor": sd, "Parameters": dict(parameters or {})}


# The characters Hive, Spark and Athena write as %XX in a partition folder name (Hive's `escapePathName`, which Spark's
# `ExternalCatalogUtils` copies): a value such as "EU:West" or "a/b" is stored in the folder `region=EU%3AWest`.
_ESCAPED_IN_PATHS = frozenset([chr(c) for c in range(0x01, 0x20)] + list("\"#%'*/:=?\\\x7f{[]^"))


def escape_path_name(name: str) -> str:
    """A partition key or value as Hive and Spark write it in a folder name (`EU:West` -> `EU%3AWest`)."""
    return "".join(f"%{ord(c):02X}" if c in _ESCAPED_IN_PATHS else c for c in name)


def hive_partition_path(keys: list[str], values: list[str]) -> str:
    """`key=value/...` with keys and values escaped as Spark names the folders it writes (values are never empty:
    Hive stores an empty value as null, and the transform quarantines a record without a partition value)."""
    return "/".join(f"{escape_path_name(k)}={escape_path_name(v)}" for k, v in zip(keys, values, strict=True))


def partition_path(values: dict[str, str]) -> str:
    """`{"order_date": "2025-06-01"}` -> `order_date=2025-06-01`, keys in the dict's order."""
    return hive_partition_path(list(values), list(values.values()))


# --- processed ---------------------------------------------------------------------------------


def processed_table_input(contract: DatasetContract, location: str) -> dict[str, Any]:
    """The Parquet table analysts query: columns and partition keys from the contract."""
    columns = []
    for c in contract.schema.columns:
        col = {"Name": c.name, "Type": c.type.replace(" ", "")}
        if c.description:
            col["Comment"] = c.description
        columns.append(col)
    table: dict[str, Any] = {
        "Name": processed_table_name(contract.dataset),
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE", "parquet.compression": "SNAPPY"},
        "StorageDescriptor": storage_descriptor(columns, location, PARQUET_FORMAT),
        "PartitionKeys": [{"Name": p.name, "Type": p.type} for p in contract.schema.partition_keys],
    }
    if contract.description:
        table["Description"] = contract.description
    if contract.owner:
        table["Owner"] = contract.owner
    return table


def version_folder(root: str, values: dict[str, str], version: str) -> str:
    """Where one published version of a partition lives: `<root>/order_date=2025-06-01/<run_id>`, or
    `<root>/<run_id>` for an unpartitioned table. A run id holds no `=`, so Spark, Hive and DuckDB read the folder as
    part of its partition and take the partition's value from the `key=value` folder above it."""
    rel = partition_path(values)
    return f"{root.rstrip('/')}/{rel}/{version}" if rel else f"{root.rstrip('/')}/{version}"


def processed_partition_input(
    contract: DatasetContract, location_root: str, values: dict[str, str], location: str
) -> dict[str, Any]:
    """Partition `values` (partition key -> value) of the processed table rooted at `location_root`, stored in the
    folder `location` (the folder of its published version, `version_folder`)."""
    keys = contract.partition_key_names
    missing = [k for k in keys if k not in values]
    unknown = [k for k in values if k not in keys]
    if missing or unknown:
        raise ValueError(
            f"partition values for {contract.dataset} must give exactly {keys}; missing {missing}, unknown {unknown}"
        )
    table = processed_table_input(contract, location_root)
    return partition_input(table, [str(values[k]) for k in keys], location)


# --- raw (crawler-built) -------------------------------------------------------------------------


def crawler_parameters(classification: str, stats: dict[str, int], compression: str | None) -> dict[str, str]:
    """The parameters an AWS Glue crawler writes on the tables and partitions it creates."""
    params = {
        "CrawlerSchemaDeserializerVersion": "1.0",
        "CrawlerSchemaSerializerVersion": "1.0",
        "UPDATED_BY_CRAWLER": CRAWLER_NAME,
        "classification": classification,
        "typeOfData": "file",
        "objectCount": str(stats.get("objects", 0)),
        "recordCount": str(stats.get("records", 0)),
        "sizeKey": str(stats.get("bytes", 0)),
        "averageRecordSize": str(stats.get("bytes", 0) // max(stats.get("records", 0), 1)),
    }
    if compression:
        params["compressionType"] = compression
    return params


def crawled_table_input(
    name: str,
    location: str,
    columns: list[dict[str, str]],
    partition_keys: list[dict[str, str]],
    classification: str,
    stats: dict[str, int],
    compression: str | None = None,
) -> dict[str, Any]:
    """A table as a Glue crawler builds it for JSON (OpenX SerDe) or Parquet files."""
    fmt = JSON_FORMAT if classification == "json" else PARQUET_FORMAT
    sd = storage_descriptor(columns, location, fmt)
    params = crawler_parameters(classification, stats, compression)
    sd["Parameters"] = dict(params)
    sd["Compressed"] = compression is not None
    if classification == "json":
        sd["SerdeInfo"]["Parameters"] = {"paths": ",".join(sorted(c["Name"] for c in columns))}
    return {
        "Name": name,
        "Owner": "owner",
        "Retention": 0,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": params,
        "StorageDescriptor": sd,
        "PartitionKeys": partition_keys,
    }


@dataclass(frozen=True)
class ProcessedCatalog:
    """The processed tables of one catalog database, which say which folder holds each partition's published version.

    Publishing writes a new version folder next to the old one, then switches the partitions' locations here (one
    transaction in the local catalog; in Glue, one BatchCreatePartition per 100 new partitions, then one
    BatchUpdatePartition per 100 existing ones): a reader that goes through the catalog sees a partition's old rows or
    its new ones, never both.
    """

    catalog: Catalog
    database: str

    def register(self, contract: DatasetContract, root: str, folders: list[tuple[dict[str, str], str]]) -> None:
        """Point each partition (its values) at its folder, creating or updating the processed table rooted at `root`
        first. An unpartitioned table has one folder: the table's own location switches. Nothing published, nothing
        changes."""
        if not folders:
            return
        keys = contract.partition_key_names
        self.catalog.upsert_table(self.database, processed_table_input(contract, root if keys else folders[0][1]))
        if keys:
            inputs = [processed_partition_input(contract, root, values, folder) for values, folder in folders]
            self.catalog.add_partitions(self.database, processed_table_name(contract.dataset), inputs)

    def partition_keys(self, dataset: str) -> list[tuple[str, str]] | None:
        """The published table's partition keys as (name, type), lower-cased as Glue stores them; None when the
        dataset was never published."""
        table = self.catalog.get_table(self.database, processed_table_name(dataset))
        if table is None:
            return None
        return [(k["Name"].lower(), k["Type"].lower()) for k in table.get("PartitionKeys", [])]

    def published_folders(self, dataset: str) -> dict[str, str]:
        """Partition path (`order_date=2025-06-01`, "" for an unpartitioned table) -> the folder of its published
        version; empty when the dataset was never published."""
        name = processed_table_name(dataset)
        table = self.catalog.get_table(self.database, name)
        if table is None:
            return {}
        keys = [k["Name"] for k in table.get("PartitionKeys", [])]
        if not keys:
            return {"": table["StorageDescriptor"]["Location"].rstrip("/")}
        return {
            hive_partition_path(keys, p["Values"]): p["StorageDescriptor"]["Location"].rstrip("/")
            for p in self.catalog.get_partitions(self.database, name)
        }
