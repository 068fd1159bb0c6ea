"""Athena SQL everywhere: DuckDB over the local catalog, Athena through boto3 on AWS."""

from batchlake.query.athena import AthenaQueryEngine
from batchlake.query.duckdb_engine import DuckDBQueryEngine
from batchlake.query.engine import QueryEngine, engine_for_environment, run_query
from batchlake.query.result import QueryResult
from batchlake.query.transpile import QueryError

__all__ = [
    "AthenaQueryEngine",
    "DuckDBQueryEngine",
    "QueryEngine",
    "QueryError",
    "QueryResult",
    "engine_for_environment",
    "run_query",
]
