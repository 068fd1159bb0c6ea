"""The crawler infers Glue tables from raw JSON and Parquet, incrementally, under the contract's change policy."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from batchlake.crawler import (
    SAMPLE_RECORDS_PER_FILE,
    SchemaChangeError,
    crawl_prefix,
    crawl_raw,
    infer_value,
    merge_types,
    parse_type,
    render_type,
)
from batchlake_core.catalog import GlueCatalog, LocalCatalog
from batchlake_core.contract import load_contract
from moto import mock_aws

REPO = Path(__file__).resolve().parents[2]
ORDERS = load_contract(REPO / "pipelines" / "orders.yaml")


def order(i: int, **extra) -> dict:
    rec = {
        "order_id": i,
        "customer_id": 10 + i,
        "status": "paid",
        "total_amount": 12.5,
        "items": [{"sku": "A-1", "name": "Mug", "quantity": 2, "unit_price": 6.25}],
        "shipping": {"country": "FR", "city": "Lyon", "method": "standard"},
        "promised_date": "2026-01-05",
        "delivered_at": None,
        "created_at": "2026-01-01T10:00:00Z",
        "updated_at": "2026-01-01T10:00:00.123+00:00",
    }
    rec.update(extra)
    return rec


def with_policy(policy: str):
    return ORDERS.model_copy(update={"schema_": ORDERS.schema.model_copy(update={"change_policy": policy})})


@pytest.fixture
def catalog(tmp_path):
    return LocalCatalog(tmp_path / "catalog.sqlite")


def columns(catalog, table="raw_orders") -> dict[str, str]:
    return {c["Name"]: c["Type"] for c in catalog.get_table("batchlake", table)["StorageDescriptor"]["Columns"]}


def test_type_inference_and_widening():
    assert infer_value(1) == "int"
    assert infer_value(2**40) == "bigint"
    assert infer_value(1.5) == "double"
    assert infer_value("2026-01-01") == "date"
    assert infer_value("2026-01-01T10:00:00Z") == "timestamp"
    assert infer_value("2026-01-01 10:00:00.5+02:00") == "timestamp"
    assert infer_value("2026-13") == "string"
    assert infer_value({"at": "2026-01-01T10:00:00Z"}, temporal=False) == ("struct", {"at": "string"})
    assert merge_types("int", "bigint") == "bigint"
    assert merge_types("bigint", "double") == "double"
    assert merge_types("int", "string") == "string"
    assert merge_types("boolean", "int") == "string"
    assert merge_types("date", "timestamp") == "timestamp"
    assert merge_types(infer_value([]), infer_value([1, 2**40])) == ("array", "bigint")
    merged = merge_types(infer_value({"a": 1}), infer_value({"a": 1.5, "b": "x"}))
    assert render_type(merged) == "struct<a:double,b:string>"
    assert merge_types(infer_value({"a": 1}), "string") == "string"
    assert render_type(infer_value([])) == "array<string>"
    t = "array<struct<sku:string,q:int,price:decimal(10,2),tags:array<string>,m:map<string,int>>>"
    assert render_type(parse_type(t)) == t


def test_first_crawl_builds_a_glue_crawler_shaped_json_table(lake, catalog, raw_run):
    raw_run(lake, "orders", "2026-01-01", "r1", [[order(1), order(2, customer_id=2**40)]])
    raw_run(lake, "orders", "2026-01-01", "r2-crashed", [[order(3)]], manifest=False)
    result = crawl_raw(ORDERS, lake, catalog, "batchlake")
    assert result.table == "raw_orders"
    assert result.new_partitions == [["2026-01-01", "r1"]]  # the run without manifest is invisible
    assert result.files_scanned == 1 and result.records_sampled == 2
    table = catalog.get_table("batchlake", "raw_orders")
    sd = table["StorageDescriptor"]
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert sd["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    assert sd["OutputFormat"] == "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
    assert sd["Location"] == lake.raw_dataset("orders") + "/"
    assert table["PartitionKeys"] == [{"Name": "ingest_date", "Type": "string"}, {"Name": "run_id", "Type": "string"}]
    params = table["Parameters"]
    assert params["classification"] == "json" and params["compressionType"] == "gzip"
    assert params["CrawlerSchemaDeserializerVersion"] == "1.0" and params["recordCount"] == "2"
    assert columns(catalog) == {
        "order_id": "int",
        "customer_id": "bigint",
        "status": "string",
        "total_amount": "double",
        "items": "array<struct<sku:string,name:string,quantity:int,unit_price:double>>",
        "shipping": "struct<country:string,city:string,method:string>",
        "promised_date": "date",
        "delivered_at": "string",
        "created_at": "timestamp",
        "updated_at": "timestamp",
    }
    (part,) = catalog.get_partitions("batchlake", "raw_orders")
    assert part["StorageDescriptor"]["Location"] == lake.raw_run("orders", "2026-01-01", "r1") + "/"


def test_second_crawl_reads_only_new_runs(lake, catalog, raw_run):
    raw_run(lake, "orders", "2026-01-01", "r1", [[order(1)]])
    crawl_raw(ORDERS, lake, catalog, "batchlake")
    again = crawl_raw(ORDERS, lake, catalog, "batchlake")
    assert again.new_partitions == [] and again.files_scanned == 0
    raw_run(lake, "orders", "2026-01-02", "r2", [[order(2)], [order(3)]])
    third = crawl_raw(ORDERS, lake, catalog, "batchlake")
    assert third.new_partitions == [["2026-01-02", "r2"]]
    assert third.files_scanned == 2 and third.schema_changes == []
    assert [p["Values"] for p in catalog.get_partitions("batchlake", "raw_orders")] == [
        ["2026-01-01", "r1"],
        ["2026-01-02", "r2"],
    ]
    assert catalog.get_table("batchlake", "raw_orders")["Parameters"]["recordCount"] == "3"


def test_large_files_are_sampled(lake, catalog, raw_run):
    raw_run(lake, "orders", "2026-01-01", "big", [[order(i) for i in range(SAMPLE_RECORDS_PER_FILE * 3)]])
    result = crawl_raw(ORDERS, lake, catalog, "batchlake")
    assert result.records_sampled == SAMPLE_RECORDS_PER_FILE
    # the record count comes from the manifest, not from the sample
    assert catalog.get_table("batchlake", "raw_orders")["Parameters"]["recordCount"] == str(SAMPLE_RECORDS_PER_FILE * 3)


def _changed_run(lake, raw_run):
    raw_run(lake, "orders", "2026-01-01", "r1", [[order(1, total_amount=12)]])


def _second_run(lake, raw_run):
    raw_run(lake, "orders", "2026-01-02", "r2", [[order(2, total_amount=7.5, coupon="WELCOME")]])


def test_change_policy_update_widens_and_adds_columns(lake, catalog, raw_run):
    _changed_run(lake, raw_run)
    crawl_raw(with_policy("update"), lake, catalog, "batchlake")
    assert columns(catalog)["total_amount"] == "int"
    _second_run(lake, raw_run)
    result = crawl_raw(with_policy("update"), lake, catalog, "batchlake")
    assert result.schema_changes == ["column total_amount changed int -> double", "added column coupon string"]
    assert columns(catalog)["total_amount"] == "double" and columns(catalog)["coupon"] == "string"
    assert result.schema_updated


def test_change_policy_log_keeps_the_schema_but_reports(lake, catalog, raw_run):
    _changed_run(lake, raw_run)
    crawl_raw(with_policy("log"), lake, catalog, "batchlake")
    _second_run(lake, raw_run)
    result = crawl_raw(with_policy("log"), lake, catalog, "batchlake")
    assert len(result.schema_changes) == 2 and not result.schema_updated
    assert columns(catalog)["total_amount"] == "int" and "coupon" not in columns(catalog)
    assert result.new_partitions == [["2026-01-02", "r2"]]


def test_change_policy_fail_stops_before_any_change(lake, catalog, raw_run):
    _changed_run(lake, raw_run)
    crawl_raw(with_policy("fail"), lake, catalog, "batchlake")
    _second_run(lake, raw_run)
    with pytest.raises(SchemaChangeError, match=r"total_amount changed int -> double.*change_policy is 'fail'"):
        crawl_raw(with_policy("fail"), lake, catalog, "batchlake")
    assert len(catalog.get_partitions("batchlake", "raw_orders")) == 1


def test_parquet_prefix_with_hive_partitions(tmp_path, catalog):
    root = tmp_path / "processed" / "events"
    for day, n in (("2026-01-01", 3), ("2026-01-02", 2)):
        folder = root / f"event_date={day}" / "hour=10"
        folder.mkdir(parents=True)
        table = pa.table(
            {
                "id": pa.array(range(n), pa.int64()),
                "amount": pa.array([Decimal("1.50")] * n, pa.decimal128(12, 2)),
                "tags": pa.array([["a"]] * n, pa.list_(pa.string())),
                "at": pa.array([0] * n, pa.timestamp("us")),
            }
        )
        pq.write_table(table, folder / "part-0.parquet")
    result = crawl_prefix(str(root), "events", catalog, "batchlake")
    assert sorted(result.new_partitions) == [["2026-01-01", "10"], ["2026-01-02", "10"]]
    table = catalog.get_table("batchlake", "events")
    assert table["PartitionKeys"] == [{"Name": "event_date", "Type": "string"}, {"Name": "hour", "Type": "string"}]
    assert table["Parameters"]["classification"] == "parquet" and table["Parameters"]["recordCount"] == "5"
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert columns(catalog, "events") == {
        "id": "bigint",
        "amount": "decimal(12,2)",
        "tags": "array<string>",
        "at": "timestamp",
    }


def test_crawl_into_glue_equals_crawl_into_local(lake, catalog, monkeypatch, raw_run):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    raw_run(lake, "orders", "2026-01-01", "r1", [[order(1)]])
    with mock_aws():
        glue = GlueCatalog(boto3.client("glue", region_name="eu-west-1"))
        crawl_raw(ORDERS, lake, glue, "batchlake")
        crawl_raw(ORDERS, lake, catalog, "batchlake")
        assert glue.get_table("batchlake", "raw_orders") == catalog.get_table("batchlake", "raw_orders")
        assert glue.get_partitions("batchlake", "raw_orders") == catalog.get_partitions("batchlake", "raw_orders")


def test_temporal_inference_can_match_aws_exactly(lake, catalog, raw_run):
    raw_run(lake, "orders", "2026-01-01", "r1", [[order(1)]])
    crawl_raw(ORDERS, lake, catalog, "batchlake", infer_temporal=False)
    assert columns(catalog)["created_at"] == "string" and columns(catalog)["promised_date"] == "string"


def test_crawl_s3_raw_zone_into_glue(monkeypatch, tmp_path, raw_run):
    """The AWS path end to end against moto: raw runs in S3, streamed samples, the Glue Data Catalog."""
    from batchlake_core.layout import ZONES, Lake
    from batchlake_core.storage import S3ObjectStore

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    local = Lake.local(tmp_path / "staging-area")
    run = raw_run(local, "orders", "2026-01-01", "r1", [[order(1), order(2)]])
    raw_run(local, "orders", "2026-01-01", "r2-crashed", [[order(3)]], manifest=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="dev-raw", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        lake = Lake.s3({z: "dev-raw" for z in ZONES})
        store = S3ObjectStore(client=s3)
        for path in sorted(Path(local.raw_dataset("orders")).rglob("*")):
            if path.is_file():
                rel = path.relative_to(local.raw_dataset("orders"))
                store.put_file(f"{lake.raw_dataset('orders')}/{rel}", path)
        glue = GlueCatalog(boto3.client("glue", region_name="eu-west-1"))
        result = crawl_raw(ORDERS, lake, glue, "batchlake", store=store)
        assert result.new_partitions == [["2026-01-01", "r1"]] and result.records_sampled == 2
        table = glue.get_table("batchlake", "raw_orders")
        assert table["StorageDescriptor"]["Location"] == "s3://dev-raw/raw/orders/"
        (part,) = glue.get_partitions("batchlake", "raw_orders")
        assert part["StorageDescriptor"]["Location"] == "s3://dev-raw/raw/orders/ingest_date=2026-01-01/run_id=r1/"
        assert run.name == "run_id=r1"
