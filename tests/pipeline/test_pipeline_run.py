"""The whole local pipeline over a real demo API: first run, a no-op rerun, an incremental run after changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import yaml
from batchlake.demo_api.server import DemoApiServer
from batchlake.environment import local_environment
from batchlake.errors import UserError
from batchlake.query import DuckDBQueryEngine
from batchlake.runner import PipelineRunner
from batchlake_core.contract import load_contracts, parse_contract

pytestmark = [pytest.mark.spark, pytest.mark.slow]

ORDERS, CUSTOMERS = 3000, 500


@pytest.fixture(scope="module")
def api():
    with DemoApiServer(orders=ORDERS, customers=CUSTOMERS) as server:
        yield server


def summary_of(lake: Path, dataset: str, run_id: str) -> dict:
    return json.loads((lake / "reports" / dataset / run_id / "summary.json").read_text())


def count(env, sql: str) -> int:
    with DuckDBQueryEngine(env.lake, env.catalog, env.database) as engine:
        return int(engine.execute(sql).rows[0][0])


def test_first_rerun_and_incremental_runs(spark, api, repo_root, tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_API_URL", api.url)
    contracts = list(load_contracts(repo_root / "pipelines").values())
    env = local_environment(tmp_path)
    runner = PipelineRunner(env, repo_root)  # shares the test session's Spark; not closed here

    first = {s.dataset: s for s in runner.run(contracts)}
    assert [s.status for s in first.values()] == ["published", "published"]
    orders = summary_of(tmp_path, "orders", first["orders"].run_id)
    assert orders["records_ingested"] == orders["records_processed"] == ORDERS
    assert orders["published"] is True and orders["reconciled"] is True
    assert orders["expectations_failed"] == 0
    assert count(env, "SELECT count(DISTINCT order_id) FROM orders") == ORDERS
    report = (tmp_path / "reports/orders" / first["orders"].run_id / "report.html").read_text()
    assert f"{ORDERS:,}" in report and "http://" not in report.replace(api.url, "")
    assert all(q["state"] == "SUCCEEDED" for q in orders["queries"]), orders["queries"]
    for q in orders["queries"]:
        assert Path(q["output_location"]).is_file()

    # Nothing changed at the source: nothing fetched, nothing rewritten.
    processed_files = sorted(p.name for p in (tmp_path / "processed/orders").rglob("*.parquet"))
    again = {s.dataset: s for s in runner.run(contracts)}
    assert again["orders"].records_ingested == 0
    assert again["orders"].status == "no new data"
    assert again["orders"].processed_table_rows == ORDERS
    assert sorted(p.name for p in (tmp_path / "processed/orders").rglob("*.parquet")) == processed_files

    # 5% of the recent orders change and 1% are new: only those are fetched and merged.
    mutation = requests.post(
        f"{api.url}/_admin/mutate", json={"changed_fraction": 0.05, "new_fraction": 0.01, "recent_days": 14}, timeout=10
    ).json()
    third = {s.dataset: s for s in runner.run(contracts)}["orders"]
    assert third.records_ingested == mutation["changed"] + mutation["new"]
    assert third.records_processed == mutation["changed"] + mutation["new"]
    assert third.published and third.processed_table_rows == ORDERS + mutation["new"]
    assert count(env, "SELECT count(*) FROM orders") == count(env, "SELECT count(DISTINCT order_id) FROM orders")
    # Only partitions of the recent days were touched.
    assert len(third.partitions_published) <= 15 + 1
    assert len(first["orders"].rows_per_partition) > 100


def test_a_moved_lake_runs_on_and_a_changed_partition_key_is_refused(spark, api, repo_root, tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_API_URL", api.url)
    orders = load_contracts(repo_root / "pipelines")["orders"]
    first = local_environment(tmp_path / "lake")
    assert PipelineRunner(first, repo_root).run([orders])[0].status == "published"
    total = count(first, "SELECT count(*) FROM orders")

    # The lake folder moves: the table is read from its new place, and a run there merges into it.
    (tmp_path / "lake").rename(tmp_path / "moved")
    env = local_environment(tmp_path / "moved")
    assert count(env, "SELECT count(*) FROM orders") == total
    requests.post(f"{api.url}/_admin/mutate", json={"changed_fraction": 0.1}, timeout=10)
    runner = PipelineRunner(env, repo_root)
    second = runner.run([orders])[0]
    assert second.status == "published" and second.records_processed == round(0.1 * total)
    assert count(env, "SELECT count(*) FROM orders") == count(env, "SELECT count(DISTINCT order_id) FROM orders")
    assert count(env, "SELECT count(*) FROM orders") == total
    assert not (tmp_path / "lake").exists()

    # A new partition key for a published table: refused before anything is staged, the table as it was.
    doc = yaml.safe_load((repo_root / "pipelines" / "orders.yaml").read_text())
    month = "date_format(created_at, 'yyyy-MM')"
    doc["schema"]["partition_keys"] = [{"name": "order_month", "type": "string", "expression": month}]
    rekeyed = parse_contract(doc, "orders.yaml")
    partitions = env.catalog.get_partitions(env.database, "orders")
    requests.post(f"{api.url}/_admin/mutate", json={"changed_fraction": 0.1}, timeout=10)
    with pytest.raises(UserError, match=r"partitions by order_month \(string\), the published table by order_date"):
        runner.run([rekeyed])
    assert env.catalog.get_partitions(env.database, "orders") == partitions
    assert count(env, "SELECT count(*) FROM orders") == total
    assert not list((tmp_path / "moved" / "staging").rglob("*.parquet"))
