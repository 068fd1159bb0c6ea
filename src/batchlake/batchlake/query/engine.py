"""One interface for running Athena SQL: `DuckDBQueryEngine` locally, `AthenaQueryEngine` on AWS."""

from __future__ import annotations

from abc import ABC, abstractmethod

from batchlake.query.result import QueryResult


class QueryEngine(ABC):
    engine_name = "engine"

    @abstractmethod
    def execute(self, sql: str, origin: str = "query") -> QueryResult:
        """Run the Athena SQL statements in `sql`; return the last statement's result."""

    def close(self) -> None:  # noqa: B027 - engines without resources need nothing
        """Release the engine's resources."""


def run_query(sql: str, *, engine: QueryEngine, origin: str = "query") -> QueryResult:
    return engine.execute(sql, origin)


def engine_for_environment(environment) -> QueryEngine:
    """The query engine of a `batchlake.environment.Environment`: DuckDB for `local`, Athena for a workspace."""
    from batchlake.errors import UserError

    if environment.is_local:
        from batchlake.query.duckdb_engine import DuckDBQueryEngine

        return DuckDBQueryEngine(environment.lake, environment.catalog, environment.database)
    if not environment.athena_workgroup:
        raise UserError(
            f"workspace {environment.name!r} has no Athena workgroup in its terraform outputs: run `batchlake apply`"
        )
    from batchlake.query.athena import AthenaQueryEngine

    return AthenaQueryEngine(environment.athena_workgroup, environment.database)
