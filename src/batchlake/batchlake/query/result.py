"""A query's result, and how it is stored: `<results>/<query_id>.csv` + `<query_id>.csv.metadata.json`, as Athena."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from batchlake_core.storage import ObjectStore


@dataclass
class QueryResult:
    query_id: str
    columns: list[str]
    rows: list[tuple]
    state: str = "SUCCEEDED"
    bytes_scanned: int = 0
    elapsed_seconds: float = 0.0
    output_location: str | None = None
    column_types: list[str] = field(default_factory=list)
    sql: str = ""
    engine_sql: str = ""
    statement_type: str = "DML"
    engine: str = "duckdb"
    state_change_reason: str | None = None

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def to_json(self) -> str:
        """Rows as a JSON array of objects (decimals as numbers, dates and timestamps as ISO strings)."""
        return json.dumps(self.as_dicts(), default=json_default, ensure_ascii=False)


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def athena_text(value: Any) -> str | None:
    """A value as Athena writes it in result CSV files (None stays empty, arrays `[a, b]`, rows `{k=v}`)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, list | tuple):
        return "[" + ", ".join("null" if v is None else athena_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={'null' if v is None else athena_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    return str(value)


def to_csv(result: QueryResult) -> str:
    def cell(value: Any) -> str:
        text = athena_text(value)
        return "" if text is None else '"' + text.replace('"', '""') + '"'

    lines = [",".join(cell(c) for c in result.columns)]
    lines += [",".join(cell(v) for v in row) for row in result.rows]
    return "\n".join(lines) + "\n"


def metadata(result: QueryResult, submitted: datetime, completed: datetime) -> dict[str, Any]:
    """Shaped like Athena's GetQueryExecution, plus the SQL the local engine actually ran."""
    return {
        "QueryExecutionId": result.query_id,
        "Query": result.sql,
        "EngineQuery": result.engine_sql,
        "Engine": result.engine,
        "StatementType": result.statement_type,
        "ResultConfiguration": {"OutputLocation": result.output_location},
        "Status": {
            "State": result.state,
            "SubmissionDateTime": submitted.isoformat(),
            "CompletionDateTime": completed.isoformat(),
            **({"StateChangeReason": result.state_change_reason} if result.state_change_reason else {}),
        },
        "Statistics": {
            "DataScannedInBytes": result.bytes_scanned,
            "EngineExecutionTimeInMillis": round(result.elapsed_seconds * 1000),
            "TotalExecutionTimeInMillis": round((completed - submitted).total_seconds() * 1000),
        },
        "ResultSetMetadata": {
            "ColumnInfo": [
                {"Name": n, "Type": t}
                for n, t in zip(result.columns, result.column_types or [""] * len(result.columns), strict=True)
            ]
        },
    }


def store_result(store: ObjectStore, results_root: str, result: QueryResult, submitted: datetime, completed: datetime):
    """Write the CSV (not for a failed query, as Athena) and its metadata; sets `result.output_location`."""
    uri = f"{results_root.rstrip('/')}/{result.query_id}.csv"
    result.output_location = uri
    if result.state == "SUCCEEDED":
        store.put_bytes(uri, to_csv(result).encode("utf-8"), "text/csv")
    body = json.dumps(metadata(result, submitted, completed), indent=2, default=json_default)
    store.put_bytes(uri + ".metadata.json", body.encode("utf-8"), "application/json")
    return uri
