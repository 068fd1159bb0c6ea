"""batchlake's crawler: what an AWS Glue crawler does, on any `ObjectStore` (local folder or S3).

It lists a table's folder, groups the files by Hive partition (`key=value/...`), reads only partitions
that are not in the catalog yet, infers the schema from a sample of each new file (gzip JSON lines or
Parquet footers), merges it into the table's schema with Glue's widening rules, and writes the table
and the new partitions in Glue's data model. The result is interchangeable with a table built by
Terraform's `aws_glue_crawler` over the same files.

Type inference (Hive/Glue type names):
- JSON true/false -> boolean; integers -> int, or bigint beyond 32 bits; other numbers -> double;
- strings -> date (`YYYY-MM-DD`), timestamp (ISO 8601 date-time), else string;
- objects -> struct<...> (fields in order of first appearance, merged across records);
- lists -> array<element type merged across elements>; an empty list alone -> array<string>;
- widening when two records disagree: int -> bigint -> double, date -> timestamp, structs merge field by
  field, anything else mixed -> string. Nulls never decide a type; a field only ever null -> string.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from batchlake_core.catalog import Catalog
from batchlake_core.catalog.tables import RAW_PARTITION_KEYS, crawled_table_input, folder, partition_input
from batchlake_core.contract import DatasetContract
from batchlake_core.layout import MANIFEST_NAME, Lake, raw_table_name
from batchlake_core.storage import LocalObjectStore, ObjectStore, S3ObjectStore, split_s3_uri, store_for

from batchlake.errors import UserError

SAMPLE_RECORDS_PER_FILE = 1000  # like Glue, infer from the head of each file, never from all of it

# --- the type model: a scalar type name, ("array", element) or ("struct", {name: type}) ------------

Type = Any
INT_MAX = 2**31 - 1
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$")
_NUMERIC_ORDER = ["tinyint", "smallint", "int", "bigint", "float", "double"]


class SchemaChangeError(UserError):
    """The files' schema differs from the catalog's and the contract's change_policy is `fail`."""


def infer_value(value: Any, temporal: bool = True) -> Type | None:
    """The type of one JSON value; None for null (it does not decide a type).

    `temporal=False` leaves ISO date/timestamp strings as `string`, exactly as AWS's JSON classifier does.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int" if -INT_MAX - 1 <= value <= INT_MAX else "bigint"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        if not temporal:
            return "string"
        if _DATE.match(value):
            return "date"
        if _TIMESTAMP.match(value):
            return "timestamp"
        return "string"
    if isinstance(value, list):
        element: Type | None = None
        for v in value:
            element = merge_types(element, infer_value(v, temporal))
        return ("array", element)
    if isinstance(value, dict):
        return ("struct", {str(k): infer_value(v, temporal) for k, v in value.items()})
    return "string"


def merge_types(a: Type | None, b: Type | None) -> Type | None:
    """The narrowest type that holds both."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    if isinstance(a, str) and isinstance(b, str):
        if a in _NUMERIC_ORDER and b in _NUMERIC_ORDER:
            return max(a, b, key=_NUMERIC_ORDER.index)
        if {a, b} == {"date", "timestamp"}:
            return "timestamp"
        if {a.split("(")[0], b.split("(")[0]} <= {"decimal", *_NUMERIC_ORDER}:
            return "double"
        return "string"
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0]:
        if a[0] == "array":
            return ("array", merge_types(a[1], b[1]))
        fields = dict(a[1])
        for name, t in b[1].items():
            fields[name] = merge_types(fields.get(name), t)
        return ("struct", fields)
    return "string"


def render_type(t: Type | None) -> str:
    """Hive/Glue type name, e.g. array<struct<sku:string,quantity:int>>."""
    if t is None:
        return "string"
    if isinstance(t, str):
        return t
    if t[0] == "array":
        return f"array<{render_type(t[1])}>"
    return "struct<" + ",".join(f"{k}:{render_type(v)}" for k, v in t[1].items()) + ">"


def parse_type(text: str) -> Type:
    """Inverse of render_type for the catalog's type names (map<...> is kept as an opaque scalar)."""
    text = text.strip()
    pos = 0

    def parse() -> Type:
        nonlocal pos
        m = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*(\(\d+\s*(,\s*\d+)?\))?").match(text, pos)
        if not m:
            raise ValueError(f"cannot parse type {text!r} at {pos}")
        name = m.group(0).lower()
        pos = m.end()
        if name == "array":
            pos += 1  # <
            element = parse()
            pos += 1  # >
            return ("array", element)
        if name == "struct":
            pos += 1
            fields: dict[str, Type] = {}
            while text[pos] != ">":
                colon = text.index(":", pos)
                fname = text[pos:colon].strip().strip("`")
                pos = colon + 1
                fields[fname] = parse()
                if text[pos] == ",":
                    pos += 1
            pos += 1
            return ("struct", fields)
        if name == "map":
            depth, start = 0, pos
            while True:
                depth += {"<": 1, ">": -1}.get(text[pos], 0)
                pos += 1
                if depth == 0:
                    return "map" + text[start:pos]
        return name

    return parse()


def infer_arrow_type(t: Any) -> str:
    """Hive type of a pyarrow type (Parquet files)."""
    import pyarrow as pa
    import pyarrow.types as pt

    if pt.is_boolean(t):
        return "boolean"
    if pt.is_int8(t) or pt.is_int16(t):
        return "smallint" if pt.is_int16(t) else "tinyint"
    if pt.is_int32(t) or pt.is_uint8(t) or pt.is_uint16(t):
        return "int"
    if pt.is_integer(t):
        return "bigint"
    if pt.is_float32(t):
        return "float"
    if pt.is_floating(t):
        return "double"
    if pt.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pt.is_date(t):
        return "date"
    if pt.is_timestamp(t):
        return "timestamp"
    if pt.is_binary(t) or pt.is_large_binary(t):
        return "binary"
    if pt.is_list(t) or pt.is_large_list(t):
        return f"array<{infer_arrow_type(t.value_type)}>"
    if pt.is_struct(t):
        fields = [t.field(i) for i in range(t.num_fields)]
        return "struct<" + ",".join(f"{f.name}:{infer_arrow_type(f.type)}" for f in fields) + ">"
    if pt.is_map(t):
        return f"map<{infer_arrow_type(t.key_type)},{infer_arrow_type(t.item_type)}>"
    if isinstance(t, pa.DataType):
        return "string"
    return "string"


# --- reading samples ---------------------------------------------------------------------------


def _open(store: ObjectStore, uri: str) -> io.BufferedIOBase:
    """A streaming reader: only the bytes we sample are read, even from S3."""
    if isinstance(store, LocalObjectStore):
        return open(uri, "rb")  # the caller closes it
    if isinstance(store, S3ObjectStore):
        bucket, key = split_s3_uri(uri)
        return store.client.get_object(Bucket=bucket, Key=key)["Body"]
    return io.BytesIO(store.get_bytes(uri))


def sample_json_records(store: ObjectStore, uri: str, limit: int = SAMPLE_RECORDS_PER_FILE) -> list[dict]:
    """The first `limit` records of a JSON-lines file (gzip or not), read as a stream."""
    records = []
    raw = _open(store, uri)
    try:
        stream = gzip.GzipFile(fileobj=raw) if uri.endswith(".gz") else raw
        for line in io.TextIOWrapper(stream, encoding="utf-8"):
            if line.strip():
                records.append(json.loads(line))
                if len(records) >= limit:
                    break
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{uri}: cannot read JSON lines ({e}); fix or remove the file and crawl again") from None
    finally:
        raw.close()
    return records


def parquet_schema(store: ObjectStore, uri: str) -> tuple[list[tuple[str, str]], int]:
    """(name, hive type) of each column and the row count, from the Parquet footer only."""
    import pyarrow.parquet as pq

    if isinstance(store, LocalObjectStore):
        meta = pq.read_metadata(uri)
    else:
        meta = pq.read_metadata(io.BytesIO(store.get_bytes(uri)))
    schema = meta.schema.to_arrow_schema()
    return [(f.name, infer_arrow_type(f.type)) for f in schema], meta.num_rows


# --- crawling ----------------------------------------------------------------------------------


@dataclass
class CrawlResult:
    table: str
    new_partitions: list[list[str]] = field(default_factory=list)
    schema_changes: list[str] = field(default_factory=list)
    files_scanned: int = 0
    records_sampled: int = 0
    table_created: bool = False
    schema_updated: bool = False


def _classify(name: str) -> tuple[str, str | None] | None:
    if name.endswith((".jsonl.gz", ".json.gz", ".ndjson.gz")):
        return "json", "gzip"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "json", None
    if name.endswith(".parquet"):
        return "parquet", None
    return None


def _partition_of(root: str, uri: str) -> tuple[list[tuple[str, str]], str] | None:
    """Hive partition (key, value) pairs between `root` and the file, and the partition folder."""
    rel = uri[len(root) :].lstrip("/")
    parts = PurePosixPath(rel).parts[:-1]
    pairs = []
    for p in parts:
        if "=" not in p:
            return None
        k, _, v = p.partition("=")
        pairs.append((k.lower(), v))
    return pairs, root.rstrip("/") + "/" + "/".join(parts)


def schema_diff(old: list[dict[str, str]], new: list[dict[str, str]]) -> list[str]:
    """Human-readable column changes from `old` to `new` (added, type changed)."""
    old_types = {c["Name"]: c["Type"] for c in old}
    changes = []
    for c in new:
        if c["Name"] not in old_types:
            changes.append(f"added column {c['Name']} {c['Type']}")
        elif old_types[c["Name"]] != c["Type"]:
            changes.append(f"column {c['Name']} changed {old_types[c['Name']]} -> {c['Type']}")
    return changes


def crawl_prefix(
    location: str,
    table_name: str,
    catalog: Catalog,
    database: str,
    store: ObjectStore | None = None,
    change_policy: str = "update",
    require_manifest: bool = False,
    partition_keys: list[dict[str, str]] | None = None,
    infer_temporal: bool = True,
) -> CrawlResult:
    """Crawl the files under `location` into table `database.table_name`; only new partitions are read."""
    store = store or store_for(location)
    location = location.rstrip("/")
    result = CrawlResult(table=table_name)
    catalog.ensure_database(database)
    existing_table = catalog.get_table(database, table_name)
    known = {tuple(p["Values"]) for p in catalog.get_partitions(database, table_name)} if existing_table else set()

    # group files by partition folder
    folders: dict[str, dict[str, Any]] = {}
    for uri in store.list(location):
        name = PurePosixPath(uri).name
        where = _partition_of(location, uri)
        if where is None:
            continue
        pairs, part_folder = where
        entry = folders.setdefault(part_folder, {"pairs": pairs, "files": [], "manifest": False})
        if name == MANIFEST_NAME:
            entry["manifest"] = True
        elif not name.startswith(("_", ".")) and _classify(name):
            entry["files"].append(uri)

    keys = partition_keys
    new_parts = []
    for part_folder, entry in sorted(folders.items()):
        if require_manifest and not entry["manifest"]:
            continue  # a run is visible only once its manifest exists
        if not entry["files"]:
            continue
        found_keys = [{"Name": k, "Type": "string"} for k, _ in entry["pairs"]]
        if keys is None:
            keys = found_keys
        if [k["Name"] for k in found_keys] != [k["Name"] for k in keys]:
            continue  # a folder that does not follow the table's partition layout (Glue skips it too)
        values = [v for _, v in entry["pairs"]]
        if tuple(values) in known:
            continue
        new_parts.append((values, part_folder, entry))
    keys = keys or []
    if existing_table is not None and not new_parts:
        return result

    # infer the schema of the new files
    inferred: dict[str, Type] = {}
    classification, compression = None, None
    part_stats = []
    for _values, part_folder, entry in new_parts:
        manifest = json.loads(store.get_text(f"{part_folder}/{MANIFEST_NAME}")) if entry["manifest"] else {}
        manifest_files = {f["name"]: f for f in manifest.get("files", [])}
        stats = {"objects": 0, "records": 0, "bytes": 0}
        for uri in entry["files"]:
            kind, comp = _classify(PurePosixPath(uri).name)
            classification, compression = classification or kind, compression or comp
            info = manifest_files.get(PurePosixPath(uri).name, {})
            stats["objects"] += 1
            stats["bytes"] += int(info.get("bytes", 0))
            result.files_scanned += 1
            if kind == "parquet":
                cols, rows = parquet_schema(store, uri)
                stats["records"] += rows
                for name, t in cols:
                    inferred[name.lower()] = merge_types(inferred.get(name.lower()), parse_type(t))
            else:
                records = sample_json_records(store, uri)
                result.records_sampled += len(records)
                stats["records"] += int(info.get("records", len(records)))
                for rec in records:
                    for k, v in rec.items():
                        inferred[k.lower()] = merge_types(inferred.get(k.lower()), infer_value(v, infer_temporal))
        part_stats.append(stats)
    if classification is None:
        return result

    partition_names = {k["Name"] for k in keys}
    new_columns = [{"Name": k, "Type": render_type(t)} for k, t in inferred.items() if k not in partition_names]
    table_stats = {k: sum(s[k] for s in part_stats) for k in ("objects", "records", "bytes")}
    if existing_table is None:
        columns = new_columns
        result.table_created = True
    else:
        old_columns = existing_table["StorageDescriptor"]["Columns"]
        merged = {c["Name"]: parse_type(c["Type"]) for c in old_columns}
        for c in new_columns:
            merged[c["Name"]] = merge_types(merged.get(c["Name"]), parse_type(c["Type"]))
        columns = [{"Name": k, "Type": render_type(t)} for k, t in merged.items()]
        result.schema_changes = schema_diff(old_columns, columns)
        if result.schema_changes and change_policy == "fail":
            raise SchemaChangeError(
                f"schema of {database}.{table_name} changed ({'; '.join(result.schema_changes)}) and its "
                "change_policy is 'fail': update the contract's schema or set change_policy to update/log"
            )
        if change_policy == "log":
            columns = old_columns  # keep the catalog's schema, report the changes only
        old_stats = existing_table.get("Parameters", {})
        for k, p in (("objects", "objectCount"), ("records", "recordCount"), ("bytes", "sizeKey")):
            table_stats[k] += int(old_stats.get(p, 0))
    table_input = crawled_table_input(
        table_name, folder(location), columns, keys, classification, table_stats, compression
    )
    result.schema_updated = existing_table is not None and columns != existing_table["StorageDescriptor"]["Columns"]
    catalog.upsert_table(database, table_input)
    partitions = []
    for (values, part_folder, _), stats in zip(new_parts, part_stats, strict=True):
        params = crawled_table_input(table_name, part_folder, columns, keys, classification, stats, compression)
        partitions.append(partition_input(table_input, values, part_folder, params["Parameters"]))
        result.new_partitions.append(values)
    catalog.add_partitions(database, table_name, partitions)
    return result


def crawl_raw(
    contract: DatasetContract,
    lake: Lake,
    catalog: Catalog,
    database: str,
    store: ObjectStore | None = None,
    *,
    infer_temporal: bool = True,
) -> CrawlResult:
    """Crawl the committed raw runs of a dataset into `raw_<dataset>` (partitions ingest_date, run_id).

    `infer_temporal=False` types ISO date/time strings as `string`, as an AWS Glue crawler does.
    """
    return crawl_prefix(
        lake.raw_dataset(contract.dataset),
        raw_table_name(contract.dataset),
        catalog,
        database,
        store=store,
        change_policy=contract.schema.change_policy,
        require_manifest=True,
        partition_keys=list(RAW_PARTITION_KEYS),
        infer_temporal=infer_temporal,
    )
