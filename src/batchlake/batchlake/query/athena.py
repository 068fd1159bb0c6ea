"""Athena through boto3: start the query in a workgroup, poll with backoff, read the results."""

from __future__ import annotations

import time
from typing import Any

from batchlake.query.engine import QueryEngine
from batchlake.query.result import QueryResult
from batchlake.query.transpile import QueryError, parse_statements

_DONE = ("SUCCEEDED", "FAILED", "CANCELLED")


class AthenaQueryEngine(QueryEngine):
    engine_name = "athena"

    def __init__(
        self,
        workgroup: str,
        database: str,
        athena_client: Any = None,
        output_location: str | None = None,
        poll_initial_seconds: float = 0.2,
        poll_max_seconds: float = 5.0,
        timeout_seconds: float = 1800.0,
    ) -> None:
        if athena_client is None:
            import boto3

            athena_client = boto3.client("athena")
        self.athena = athena_client
        self.workgroup = workgroup
        self.database = database
        self.output_location = output_location  # None: the workgroup's enforced result location
        self.poll_initial_seconds = poll_initial_seconds
        self.poll_max_seconds = poll_max_seconds
        self.timeout_seconds = timeout_seconds
        self.sleep = time.sleep

    def execute(self, sql: str, origin: str = "query") -> QueryResult:
        statements = parse_statements(sql, origin)  # Athena runs one statement per call
        result = None
        for statement in statements:
            text = statement.sql(dialect="athena") if len(statements) > 1 else sql.strip().rstrip(";")
            result = self._execute_one(text)
        assert result is not None
        return result

    def _client_error(self, action: str, e: Exception) -> QueryError:
        err = getattr(e, "response", {}).get("Error", {})
        return QueryError(f"Athena {action} failed: {err.get('Code', type(e).__name__)}: {err.get('Message', e)}")

    def _execute_one(self, sql: str) -> QueryResult:
        from botocore.exceptions import ClientError

        started = time.perf_counter()
        kwargs: dict[str, Any] = {
            "QueryString": sql,
            "QueryExecutionContext": {"Database": self.database},
            "WorkGroup": self.workgroup,
        }
        if self.output_location:
            kwargs["ResultConfiguration"] = {"OutputLocation": self.output_location}
        try:
            query_id = self.athena.start_query_execution(**kwargs)["QueryExecutionId"]
        except ClientError as e:
            raise self._client_error("StartQueryExecution", e) from None
        execution = self._wait(query_id)
        status = execution["Status"]
        state = status["State"]
        if state != "SUCCEEDED":
            reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage") or state
            raise QueryError(f"Athena query {query_id} {state}: {reason}")
        columns, types, rows = self._results(query_id)
        stats = execution.get("Statistics", {})
        return QueryResult(
            query_id=query_id,
            columns=columns,
            column_types=types,
            rows=rows,
            state=state,
            bytes_scanned=int(stats.get("DataScannedInBytes", 0)),
            elapsed_seconds=time.perf_counter() - started,
            output_location=execution.get("ResultConfiguration", {}).get("OutputLocation"),
            sql=sql,
            engine_sql=sql,
            statement_type=execution.get("StatementType", "DML"),
            engine=self.engine_name,
        )

    def _wait(self, query_id: str) -> dict[str, Any]:
        """Poll GetQueryExecution with exponential backoff until the query is done."""
        from botocore.exceptions import ClientError

        delay, deadline = self.poll_initial_seconds, time.monotonic() + self.timeout_seconds
        while True:
            try:
                execution = self.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            except ClientError as e:
                raise self._client_error("GetQueryExecution", e) from None
            if execution["Status"]["State"] in _DONE:
                return execution
            if time.monotonic() > deadline:
                self.athena.stop_query_execution(QueryExecutionId=query_id)
                raise QueryError(f"Athena query {query_id} did not finish in {self.timeout_seconds:.0f} s; stopped it")
            self.sleep(delay)
            delay = min(delay * 2, self.poll_max_seconds)

    def _results(self, query_id: str) -> tuple[list[str], list[str], list[tuple]]:
        from botocore.exceptions import ClientError

        columns: list[str] = []
        types: list[str] = []
        rows: list[tuple] = []
        first_page = True
        try:
            for page in self.athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
                result_set = page["ResultSet"]
                info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                if info and not columns:
                    columns = [c["Name"] for c in info]
                    types = [c.get("Type", "varchar") for c in info]
                page_rows = [tuple(d.get("VarCharValue") for d in r["Data"]) for r in result_set.get("Rows", [])]
                if first_page and page_rows and columns and list(page_rows[0]) == columns:
                    page_rows = page_rows[1:]  # a SELECT's first row repeats the column names
                first_page = False
                rows += page_rows
        except ClientError as e:
            raise self._client_error("GetQueryResults", e) from None
        return columns, types, [tuple(_convert(v, t) for v, t in zip(r, types, strict=False)) for r in rows]


def _convert(value: str | None, athena_type: str) -> Any:
    """Athena returns every value as text; give numbers and booleans back their type."""
    if value is None:
        return None
    t = athena_type.lower()
    try:
        if t in ("tinyint", "smallint", "integer", "bigint"):
            return int(value)
        if t in ("double", "float", "real"):
            return float(value)
        if t == "decimal":
            from decimal import Decimal

            return Decimal(value)
        if t == "boolean":
            return value == "true"
    except ValueError:
        return value
    return value
