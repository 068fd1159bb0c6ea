"""Spark schemas derived from a dataset contract."""

from __future__ import annotations

from batchlake_core.contract import Column, DatasetContract
from pyspark.sql import types as T

CORRUPT_COLUMN = "_corrupt_record"
_SCALAR_TYPES = {"string", "boolean", "int", "bigint", "double", "date", "timestamp"}


def spark_type(type_string: str) -> T.DataType:
    """Athena/Hive type string -> Spark type (`array<struct<a:int>>` included)."""
    return T._parse_datatype_string(type_string)


def is_scalar(column: Column) -> bool:
    return column.type in _SCALAR_TYPES or column.type.startswith("decimal(")


def source_path(column: Column) -> list[str]:
    return (column.source or column.name).split(".")


def raw_json_schema(contract: DatasetContract) -> T.StructType:
    """Schema used to parse raw JSON lines.

    Scalars are read as strings and cast afterwards with try_cast, so one bad value quarantines one record with a
    reason instead of failing the job; nested types are parsed with their contract type. Nested sources
    (`shipping.country`) become nested structs. A `_corrupt_record` field catches lines that are not JSON or do not
    match the nested shape.
    """
    root: dict = {}
    for column in contract.schema.columns:
        node = root
        path = source_path(column)
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"column {column.name}: source {column.source} conflicts with another column")
        node[path[-1]] = T.StringType() if is_scalar(column) else spark_type(column.type)

    def to_struct(node: dict) -> T.StructType:
        return T.StructType(
            [T.StructField(k, to_struct(v) if isinstance(v, dict) else v, True) for k, v in node.items()]
        )

    schema = to_struct(root)
    return schema.add(T.StructField(CORRUPT_COLUMN, T.StringType(), True))


def processed_schema(contract: DatasetContract) -> T.StructType:
    """Columns of the processed table, in contract order, partition keys last."""
    fields = [T.StructField(c.name, spark_type(c.type), c.nullable) for c in contract.schema.columns]
    fields += [T.StructField(p.name, spark_type(p.type), False) for p in contract.schema.partition_keys]
    return T.StructType(fields)
