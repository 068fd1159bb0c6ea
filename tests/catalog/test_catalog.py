"""Both catalogs take the same Glue payloads and give back equal tables and partitions."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from batchlake_core.catalog import Catalog, CatalogError, GlueCatalog, LocalCatalog
from batchlake_core.catalog.tables import processed_partition_input, processed_table_input, version_folder
from batchlake_core.contract import load_contract
from moto import mock_aws

REPO = Path(__file__).resolve().parents[2]
ORDERS = load_contract(REPO / "pipelines" / "orders.yaml")
ROOT = "s3://lake-processed/processed/orders"


def orders_partition(values: dict[str, str], version: str) -> dict:
    return processed_partition_input(ORDERS, ROOT, values, version_folder(ROOT, values, version))


@pytest.fixture
def glue_catalog(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        yield GlueCatalog(boto3.client("glue", region_name="eu-west-1"))


@pytest.fixture
def local_catalog(tmp_path):
    return LocalCatalog(tmp_path / "catalog" / "glue_catalog.sqlite")


def exercise(catalog: Catalog) -> dict:
    """One sequence of calls; returns everything read back along the way."""
    catalog.ensure_database("batchlake")
    catalog.ensure_database("batchlake")  # idempotent
    seen: dict = {"missing": catalog.get_table("batchlake", "orders")}
    catalog.upsert_table("batchlake", processed_table_input(ORDERS, ROOT))
    days = ["2026-01-01", "2026-01-02", "2026-01-03"]
    catalog.add_partitions("batchlake", "orders", [orders_partition({"order_date": d}, "r1") for d in days])
    # idempotent: re-adding an existing partition updates it
    moved = orders_partition({"order_date": "2026-01-02"}, "r2")
    catalog.add_partitions("batchlake", "orders", [moved])
    updated = processed_table_input(ORDERS, ROOT)
    updated["Parameters"]["comment"] = "second version"
    catalog.upsert_table("batchlake", updated)
    catalog.delete_partitions("batchlake", "orders", [["2026-01-01"], ["1999-01-01"]])
    seen["table"] = catalog.get_table("batchlake", "orders")
    seen["tables"] = catalog.list_tables("batchlake")
    seen["partitions"] = catalog.get_partitions("batchlake", "orders")
    seen["databases"] = catalog.list_databases()
    return seen


def test_same_calls_give_equal_results_on_glue_and_local(glue_catalog, local_catalog):
    on_glue = exercise(glue_catalog)
    on_local = exercise(local_catalog)
    assert on_local == on_glue
    assert on_local["missing"] is None
    assert on_local["table"]["Parameters"]["comment"] == "second version"
    assert [p["Values"] for p in on_local["partitions"]] == [["2026-01-02"], ["2026-01-03"]]
    second = on_local["partitions"][0]["StorageDescriptor"]["Location"]
    assert second == ROOT + "/order_date=2026-01-02/r2/"


def test_processed_table_has_contract_columns_and_parquet_format():
    table = processed_table_input(ORDERS, ROOT)
    sd = table["StorageDescriptor"]
    assert [c["Name"] for c in sd["Columns"]] == ORDERS.column_names
    types = {c["Name"]: c["Type"] for c in sd["Columns"]}
    assert types["total_amount"] == "decimal(12,2)"
    assert types["items"].startswith("array<struct<sku:string")
    assert table["PartitionKeys"] == [{"Name": "order_date", "Type": "date"}]
    assert sd["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert sd["Location"] == ROOT + "/"


def test_partition_values_must_match_the_keys():
    with pytest.raises(ValueError, match="order_date"):
        orders_partition({"day": "2026-01-01"}, "r1")


@pytest.mark.parametrize("which", ["local", "glue"])
def test_errors_name_the_problem(which, local_catalog, glue_catalog):
    catalog = local_catalog if which == "local" else glue_catalog
    catalog.ensure_database("batchlake")
    with pytest.raises(CatalogError, match=r"orders"):
        catalog.add_partitions("batchlake", "orders", [orders_partition({"order_date": "x"}, "r1")])
    catalog.upsert_table("batchlake", processed_table_input(ORDERS, ROOT))
    with pytest.raises(CatalogError, match=r"does not exist.*tables in batchlake: orders"):
        catalog.require_table("batchlake", "order")


def test_local_catalog_validates_against_glue_model(local_catalog):
    local_catalog.ensure_database("batchlake")
    with pytest.raises(CatalogError, match="TableInput"):
        local_catalog.upsert_table("batchlake", {"Name": "t", "StorageDescriptor": {"Columns": [{"Type": "int"}]}})


def test_local_catalog_persists_across_instances(tmp_path):
    path = tmp_path / "c.sqlite"
    LocalCatalog(path).ensure_database("batchlake")
    LocalCatalog(path).upsert_table("batchlake", processed_table_input(ORDERS, ROOT))
    assert LocalCatalog(path).get_table("batchlake", "ORDERS")["Name"] == "orders"


def test_glue_batches_large_partition_lists(glue_catalog):
    """BatchCreatePartition takes 100 and BatchDeletePartition 25 per call: the catalog splits bigger lists."""
    glue_catalog.ensure_database("batchlake")
    glue_catalog.upsert_table("batchlake", processed_table_input(ORDERS, ROOT))
    days = [f"2026-{m:02d}-{d:02d}" for m in (1, 2, 3, 4, 5) for d in range(1, 29)]  # 140 partitions
    inputs = [orders_partition({"order_date": d}, "r1") for d in days]
    glue_catalog.add_partitions("batchlake", "orders", inputs)
    glue_catalog.add_partitions("batchlake", "orders", inputs)  # all exist: updated, no error
    assert [p["Values"][0] for p in glue_catalog.get_partitions("batchlake", "orders")] == days
    glue_catalog.delete_partitions("batchlake", "orders", [[d] for d in days[:60]])
    assert len(glue_catalog.get_partitions("batchlake", "orders")) == 80
