"""Spark schemas derived from a dataset contract."""

from __future__ import annotations

from batchlake_core.contract import Column, DatasetContract
from pyspark.sql import types as T

CORRUPT_COLUMN = "_corrupt_record"
_SCALAR_TYPES = {"string", "boolean", "int", "bigint", "double", "date", "timestamp"}
DOUBLE_EXACT_DIGITS = 15


def spark_type(type_string: str) -> T.DataType:
    """Athena/Hive type string -> Spark type (`array<struct<a:int>>` included)."""
    return T._parse_datatype_string(type_string)


def is_scalar(column: Column) -> bool:
    return column.type in _SCALAR_TYPES or column.type.startswith("decimal(")


def raw_json_schema(contract: DatasetContract) -> T.StructType:
    """Schema used to parse raw JSON lines.

    Scalars are read as strings and cast afterwards with try_cast, so one bad value quarantines one record with a
    reason instead of failing the job; nested types are parsed with their contract type. Nested sources
    (`shipping.country`) become nested structs. A `_corrupt_record` field catches lines that are not JSON or do not
    match the nested shape.
    """
    leaves = {c.source_path: T.StringType() if is_scalar(c) else spark_type(c.type) for c in contract.schema.columns}
    return _nested_struct(leaves).add(T.StructField(CORRUPT_COLUMN, T.StringType(), True))


def needs_exact_decimal(column: Column) -> bool:
    """A decimal with more digits than a double keeps (see `exact_decimal_schema`)."""
    data_type = spark_type(column.type)
    return isinstance(data_type, T.DecimalType) and data_type.precision > DOUBLE_EXACT_DIGITS


def exact_decimal_schema(column: Column) -> T.StructType:
    """Schema reading one decimal column with its own type: every digit of a JSON number is kept.

    Read into a string field, as `raw_json_schema` does, a JSON number passes through a double in Spark's JSON
    reader: 12345678901234567.89 becomes "1.2345678901234568E16". A double keeps 15 significant digits, so a
    decimal of precision 15 or less keeps its value (up to a double rounding of input with more digits than its scale).
    """
    return _nested_struct({column.source_path: spark_type(column.type)})


def _nested_struct(leaves: dict[tuple[str, ...], T.DataType]) -> T.StructType:
    """{("shipping", "country"): string, ...} -> struct<shipping: struct<country: string>, ...>."""
    root: dict = {}
    for path, data_type in leaves.items():
        node = root
        for part in path[:-1]:
            node = node.setdefault(part, {})  # the contract forbids a source inside another (SchemaSpec)
        node[path[-1]] = data_type

    def to_struct(node: dict) -> T.StructType:
        return T.StructType(
            [T.StructField(k, to_struct(v) if isinstance(v, dict) else v, True) for k, v in node.items()]
        )

    return to_struct(root)


def processed_schema(contract: DatasetContract) -> T.StructType:
    """Columns of the processed table, in contract order, partition keys last."""
    fields = [T.StructField(c.name, spark_type(c.type), c.nullable) for c in contract.schema.columns]
    fields += [T.StructField(p.name, spark_type(p.type), False) for p in contract.schema.partition_keys]
    return T.StructType(fields)
