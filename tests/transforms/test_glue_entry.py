"""The Glue Spark entry point, run outside Glue: job parameters in, partitions registered in (moto's) Glue."""

from __future__ import annotations

import json

import boto3
import pytest
from batchlake_transforms import glue_entry
from moto import mock_aws

pytestmark = pytest.mark.spark


def order(i: int, status: str = "paid") -> str:
    return json.dumps(
        {
            "order_id": i,
            "customer_id": 7,
            "status": status,
            "total_amount": 5.0,
            "currency": "EUR",
            "created_at": f"2025-07-0{i}T10:00:00Z",
            "updated_at": "2025-07-09T10:00:00Z",
        }
    )


@pytest.fixture
def glue(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("glue")
        client.create_database(DatabaseInput={"Name": "batchlake_dev"})
        yield client


def args(repo_root, lake) -> list[str]:
    return [
        "transform_job.py",
        "--dataset", "orders",
        "--contract_uri", str(repo_root / "pipelines" / "orders.yaml"),
        "--raw_bucket", "unused-raw",
        "--processed_bucket", "unused-processed",
        "--database", "batchlake_dev",
        "--local_lake", str(lake),
        "--run_id", "20251201T000000Z-glue01",
    ]  # fmt: skip


def test_entry_publishes_and_registers_partitions_in_glue(spark, glue, repo_root, tmp_path, raw_run):
    raw_run(tmp_path, "orders", "20251130T000000Z-aaaaaa", [order(1), order(2)])
    assert glue_entry.main(args(repo_root, tmp_path), glue_client=glue) == 0
    partitions = glue.get_partitions(DatabaseName="batchlake_dev", TableName="orders")["Partitions"]
    assert sorted(p["Values"][0] for p in partitions) == ["2025-07-01", "2025-07-02"]
    table = glue.get_table(DatabaseName="batchlake_dev", Name="orders")["Table"]
    assert table["StorageDescriptor"]["Location"] == f"{tmp_path.resolve()}/processed/orders/"
    summary = json.loads((tmp_path / "reports/orders/20251201T000000Z-glue01/summary.json").read_text())
    assert summary["published"] and summary["records_processed"] == 2 and summary["environment"] == "aws-glue"


def test_entry_fails_the_job_run_when_the_gate_rejects(spark, glue, repo_root, tmp_path, raw_run):
    raw_run(tmp_path, "orders", "20251130T000000Z-aaaaaa", [order(1, status="unknown-status")])
    with pytest.raises(SystemExit, match="error-severity expectations failed"):
        glue_entry.main(args(repo_root, tmp_path), glue_client=glue)
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_table(DatabaseName="batchlake_dev", Name="orders")
    assert not (tmp_path / "processed").exists()


def test_entry_refuses_new_partition_keys_with_a_report(spark, glue, repo_root, tmp_path, raw_run):
    """A contract whose partition keys differ from the published table's: the job fails with one line, and its run's
    report says why (docs/decisions/0006-partition-keys-fixed-once-published.md)."""
    raw_run(tmp_path, "orders", "20251130T000000Z-aaaaaa", [order(1), order(2)])
    table = {"Name": "orders", "PartitionKeys": [{"Name": "order_month", "Type": "string"}]}
    glue.create_table(DatabaseName="batchlake_dev", TableInput=table)
    with pytest.raises(SystemExit, match=r"partitions by order_date \(date\), the published table by order_month"):
        glue_entry.main(args(repo_root, tmp_path), glue_client=glue)
    summary = json.loads((tmp_path / "reports/orders/20251201T000000Z-glue01/summary.json").read_text())
    assert summary["status"] == "failed" and "cannot be re-partitioned in place" in summary["reason"]
    assert not (tmp_path / "processed").exists() and not (tmp_path / "staging").exists()
    assert glue.get_partitions(DatabaseName="batchlake_dev", TableName="orders")["Partitions"] == []
