"""The Athena engine's API flow against moto (start, poll with backoff, paginated results) and its errors."""

from __future__ import annotations

import boto3
import pytest
import requests
from batchlake.query import AthenaQueryEngine, QueryError, run_query
from botocore.stub import Stubber
from moto import mock_aws
from moto.moto_api import state_manager

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield
    state_manager.unset_transition("athena::execution")


def _column(name: str, type_: str) -> dict:
    return {"Name": name, "Label": name, "Type": type_, "CatalogName": "hive", "SchemaName": "", "TableName": ""}


def test_query_runs_polls_with_backoff_and_reads_typed_rows(aws):
    athena = boto3.client("athena", region_name=REGION)
    athena.create_work_group(
        Name="batchlake-dev",
        Configuration={"ResultConfiguration": {"OutputLocation": "s3://dev-athena-results/athena-results/"}},
    )
    seeded = {
        "region": REGION,
        "results": [
            {
                "rows": [
                    {"Data": [{"VarCharValue": "status"}, {"VarCharValue": "n"}, {"VarCharValue": "revenue"}]},
                    {"Data": [{"VarCharValue": "paid"}, {"VarCharValue": "12"}, {"VarCharValue": "140.5"}]},
                    {"Data": [{"VarCharValue": "cancelled"}, {"VarCharValue": "3"}, {}]},
                ],
                "column_info": [_column("status", "varchar"), _column("n", "bigint"), _column("revenue", "double")],
            }
        ],
    }
    assert requests.post("http://motoapi.amazonaws.com/moto-api/static/athena/query-results", json=seeded).ok
    # the query stays QUEUED, then RUNNING, for two polls each: the engine must keep polling
    state_manager.set_transition("athena::execution", {"progression": "manual", "times": 2})

    engine = AthenaQueryEngine("batchlake-dev", "batchlake", athena_client=athena, poll_initial_seconds=0.1)
    sleeps: list[float] = []
    engine.sleep = sleeps.append
    result = run_query(
        "SELECT status, count(*) AS n, sum(total_amount) AS revenue FROM orders GROUP BY 1", engine=engine
    )

    assert result.columns == ["status", "n", "revenue"]
    assert result.rows == [("paid", 12, 140.5), ("cancelled", 3, None)]
    assert result.state == "SUCCEEDED" and result.engine == "athena"
    assert len(sleeps) >= 2 and sleeps == sorted(sleeps) and sleeps[1] == 2 * sleeps[0]  # exponential backoff
    execution = athena.get_query_execution(QueryExecutionId=result.query_id)["QueryExecution"]
    assert execution["QueryExecutionContext"]["Database"] == "batchlake"
    assert execution["WorkGroup"] == "batchlake-dev"
    assert execution["Query"].startswith("SELECT status")


def test_failed_query_surfaces_athenas_message():
    athena = boto3.client("athena", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(athena)
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    reason = "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved"
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"QueryExecutionId": "q-1", "Status": {"State": "FAILED", "StateChangeReason": reason}}},
    )
    with stub:
        engine = AthenaQueryEngine("wg", "batchlake", athena_client=athena)
        with pytest.raises(QueryError) as info:
            run_query("SELECT nope FROM orders", engine=engine)
    assert str(info.value) == f"Athena query q-1 FAILED: {reason}"


def test_api_errors_become_one_line(aws):
    athena = boto3.client("athena", region_name=REGION)
    stub = Stubber(athena)
    stub.add_client_error("start_query_execution", "InvalidRequestException", "WorkGroup nope is not found.")
    with stub, pytest.raises(QueryError, match="StartQueryExecution failed: InvalidRequestException: WorkGroup nope"):
        run_query("SELECT 1", engine=AthenaQueryEngine("nope", "batchlake", athena_client=athena))


def test_a_syntax_error_never_reaches_athena():
    athena = boto3.client("athena", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(athena), pytest.raises(QueryError, match="line 1, column"):  # no responses queued: no API call
        run_query("SELECT FROM WHERE (", engine=AthenaQueryEngine("wg", "batchlake", athena_client=athena))
