"""Type names between Glue/Hive, DuckDB and Presto/Athena, through sqlglot's type model."""

from __future__ import annotations

import re
from functools import cache

from sqlglot import exp


@cache
def hive_to_duckdb(hive_type: str) -> str:
    return exp.DataType.build(hive_type, dialect="hive").sql(dialect="duckdb")


@cache
def duckdb_to_hive(duckdb_type: str) -> str:
    text = exp.DataType.build(duckdb_type, dialect="duckdb").sql(dialect="hive")
    return re.sub(r"\s+", "", text).lower()


@cache
def duckdb_to_presto(duckdb_type: str) -> str:
    return exp.DataType.build(duckdb_type, dialect="duckdb").sql(dialect="presto").lower()
