"""A transform run over raw files: staging, quarantine, counts, merge with published data, the gate, publish."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from batchlake_core.catalog.local import LocalCatalog
from batchlake_core.catalog.tables import ProcessedCatalog
from batchlake_core.contract import load_contract, parse_contract
from batchlake_core.errors import UserError
from batchlake_core.layout import Lake
from batchlake_core.storage import LocalObjectStore
from batchlake_transforms.bookmarks import pending_raw_runs
from batchlake_transforms.job import transform_dataset
from batchlake_transforms.pipeline import transform_validate_publish, write_run_report
from batchlake_transforms.publish import PublishPlan, journal_uri, publish_partitions, resume_publish
from batchlake_transforms.quality import validate
from batchlake_transforms.report import RunSummary
from batchlake_transforms.schema import processed_schema

pytestmark = pytest.mark.spark


@pytest.fixture
def contract(repo_root):
    return load_contract(repo_root / "pipelines" / "orders.yaml")


def order(i: int, day: int = 1, status: str = "paid", updated: str = "2025-06-10T00:00:00Z", amount: float = 10.0):
    return json.dumps(
        {
            "order_id": i,
            "customer_id": 100 + i,
            "status": status,
            "channel": "web",
            "currency": "EUR",
            "total_amount": amount,
            "items": [{"sku": "S1", "name": "thing", "quantity": 1, "unit_price": amount}],
            "shipping": {"country": "DE", "city": "Berlin", "method": "standard"},
            "promised_date": "2025-06-05",
            "delivered_at": None,
            "created_at": f"2025-06-{day:02d}T08:00:00Z",
            "updated_at": updated,
        }
    )


def processed_catalog(lake_root: Path) -> ProcessedCatalog:
    catalog = LocalCatalog(lake_root / "catalog.sqlite")
    catalog.ensure_database("batchlake")
    return ProcessedCatalog(catalog, "batchlake")


def run_once(spark, contract, lake_root: Path, run_id: str):
    lake, store, tables = Lake.local(lake_root), LocalObjectStore(), processed_catalog(lake_root)
    pending = pending_raw_runs(lake, store, "orders")
    result = transform_dataset(spark, contract, lake, run_id, pending, tables.published_folders("orders"))
    staged = spark.read.schema(processed_schema(contract)).parquet(f"file://{result.staging_uri}")
    customers = spark.range(0, 1000).withColumnRenamed("id", "customer_id")
    quality = validate(staged, contract, {("customers", "customer_id"): customers})
    if quality.publishable and result.partitions:
        plan = PublishPlan(
            "orders",
            run_id,
            result.staging_uri,
            lake.processed_dataset("orders"),
            result.partitions,
            result.raw_runs,
            {},
        )
        publish_partitions(plan, contract, lake, store, tables)
    return result, quality


def published_rows(spark, contract, lake_root):
    """What a reader of the catalog sees."""
    df = read_through_catalog(spark, contract, lake_root)
    return {(r["order_id"], r["status"], str(r["order_date"])) for r in df.collect()}


def read_through_catalog(spark, contract, lake_root):
    folders = [f"file://{f}" for f in processed_catalog(lake_root).published_folders("orders").values()]
    root = f"file://{lake_root.resolve()}/processed/orders"
    return spark.read.schema(processed_schema(contract)).option("basePath", root).parquet(*folders)


def test_counts_reconcile_and_bad_records_are_quarantined(spark, contract, tmp_path, raw_run):
    lines = [order(1), order(2), order(2), "{truncated", order(3, amount=-5.0)]
    raw_run(tmp_path, "orders", "20251201T000000Z-aaaaaa", lines)
    result, quality = run_once(spark, contract, tmp_path, "t1")
    assert (result.records_in, result.records_processed) == (5, 2)
    assert (result.records_duplicate, result.records_quarantined) == (1, 2)
    assert result.records_in == result.records_processed + result.records_duplicate + result.records_quarantined
    quarantined = [
        json.loads(x) for f in Path(result.quarantine_uri).glob("*.json") for x in f.read_text().splitlines()
    ]
    assert sorted(q["reason"] for q in quarantined) == [
        "failed filter: total_amount >= 0",
        "malformed record: not JSON or not the contract's shape",
    ]
    assert all(q["raw_run_id"] == "20251201T000000Z-aaaaaa" for q in quarantined)
    assert quality.publishable


def stored_rdds(spark) -> set[int]:
    return {info.id() for info in spark.sparkContext._jsc.sc().getRDDStorageInfo()}


@pytest.mark.parametrize("ends", ["staged", "refused"])
def test_a_run_frees_the_parsed_rows_it_stored(spark, contract, tmp_path, raw_run, ends):
    """The parsed rows are stored once for the counts, the quarantine and the staging write; a pipeline runs its
    datasets one after the other in one session, so a run frees them when it ends, staged or stopped by an error."""
    raw_run(tmp_path, "orders", "20251201T000000Z-aaaaaa", [order(1), order(2), "{truncated"])
    if ends == "refused":  # a partition folder the catalog does not list: the run stops after the parse
        (tmp_path / "processed/orders/order_date=2025-06-01").mkdir(parents=True)
    before = stored_rdds(spark)
    if ends == "refused":
        with pytest.raises(UserError, match="lists no published version"):
            run_once(spark, contract, tmp_path, "t1")
    else:
        result, _ = run_once(spark, contract, tmp_path, "t1")
        assert (result.records_in, result.records_processed, result.records_quarantined) == (3, 2, 1)
    assert stored_rdds(spark) <= before


def test_quarantine_is_counted_by_reason_and_each_record_keeps_its_value(spark, contract, tmp_path, raw_run):
    """A source that changed its date format must not give the report one line per distinct bad value."""
    bad = [order(i).replace("2025-06-01T08:00:00Z", f"06/{i:02d}/2025 08:00") for i in (1, 2, 3)]
    raw_run(tmp_path, "orders", "20251201T000000Z-aaaaaa", [order(4), *bad])
    result, _ = run_once(spark, contract, tmp_path, "t1")
    assert result.quarantine_reasons == {"invalid timestamp for created_at": 3}
    quarantined = [
        json.loads(x) for f in Path(result.quarantine_uri).glob("*.json") for x in f.read_text().splitlines()
    ]
    assert sorted(q["reason"] for q in quarantined) == [
        f"invalid timestamp for created_at: 06/0{i}/2025 08:00" for i in (1, 2, 3)
    ]


def test_incremental_run_touches_only_new_partitions_and_rerun_changes_nothing(spark, contract, tmp_path, raw_run):
    raw_run(tmp_path, "orders", "20251201T000000Z-aaaaaa", [order(1, day=1), order(2, day=2)])
    run_once(spark, contract, tmp_path, "t1")
    orders = tmp_path / "processed/orders"
    assert processed_catalog(tmp_path).published_folders("orders") == {
        "order_date=2025-06-01": f"{orders}/order_date=2025-06-01/t1",
        "order_date=2025-06-02": f"{orders}/order_date=2025-06-02/t1",
    }
    day1_files = sorted(p.name for p in (orders / "order_date=2025-06-01/t1").iterdir())

    # Order 2 changes, order 3 is new; day 1 must not be rewritten.
    raw_run(
        tmp_path, "orders", "20251202T000000Z-bbbbbb", [order(2, 2, "shipped", "2025-06-11T00:00:00Z"), order(3, 3)]
    )
    result, _ = run_once(spark, contract, tmp_path, "t2")
    assert result.partitions == [{"order_date": "2025-06-02"}, {"order_date": "2025-06-03"}]
    assert processed_catalog(tmp_path).published_folders("orders") == {
        "order_date=2025-06-01": f"{orders}/order_date=2025-06-01/t1",
        "order_date=2025-06-02": f"{orders}/order_date=2025-06-02/t2",
        "order_date=2025-06-03": f"{orders}/order_date=2025-06-03/t2",
    }
    assert sorted(p.name for p in (orders / "order_date=2025-06-01/t1").iterdir()) == day1_files
    assert [p.name for p in (orders / "order_date=2025-06-02").iterdir()] == ["t2"]  # the old version is deleted
    expected = {(1, "paid", "2025-06-01"), (2, "shipped", "2025-06-02"), (3, "paid", "2025-06-03")}
    assert published_rows(spark, contract, tmp_path) == expected
    lineage = json.loads((orders / "order_date=2025-06-02/t2/_lineage.json").read_text())
    assert lineage["partition"] == {"order_date": "2025-06-02"}

    # Nothing new: nothing pending, nothing changes.
    lake, store = Lake.local(tmp_path), LocalObjectStore()
    assert pending_raw_runs(lake, store, "orders") == []
    # The same records ingested again (a new raw run): all duplicates, published data unchanged.
    raw_run(
        tmp_path, "orders", "20251203T000000Z-cccccc", [order(1, 1), order(2, 2, "shipped", "2025-06-11T00:00:00Z")]
    )
    result, _ = run_once(spark, contract, tmp_path, "t3")
    assert (result.records_processed, result.records_duplicate) == (0, 2)
    assert published_rows(spark, contract, tmp_path) == expected


def test_gate_refuses_corrupted_input_and_publishes_nothing(spark, contract, tmp_path, raw_run):
    raw_run(tmp_path, "orders", "20251201T000000Z-aaaaaa", [order(1), order(2)])
    run_once(spark, contract, tmp_path, "t1")
    before = published_rows(spark, contract, tmp_path)
    catalog_before = processed_catalog(tmp_path).published_folders("orders")
    raw_run(tmp_path, "orders", "20251202T000000Z-bbbbbb", [order(4, status="lost-in-space")])
    _, quality = run_once(spark, contract, tmp_path, "t2")
    assert not quality.publishable
    assert [o.description for o in quality.blocking_failures] == [
        "status in ['placed', 'paid', 'shipped', 'delivered', 'cancelled', 'returned']"
    ]
    assert quality.blocking_failures[0].sample_unexpected == ["lost-in-space"]
    assert published_rows(spark, contract, tmp_path) == before
    assert processed_catalog(tmp_path).published_folders("orders") == catalog_before
    # The rejected raw run stays pending: it is retried, not forgotten.
    assert [r.run_id for r in pending_raw_runs(Lake.local(tmp_path), LocalObjectStore(), "orders")] == [
        "20251202T000000Z-bbbbbb"
    ]


def test_interrupted_publish_is_finished_by_resume(spark, contract, tmp_path, raw_run, monkeypatch):
    lake, store, tables = Lake.local(tmp_path), LocalObjectStore(), processed_catalog(tmp_path)
    raw_run(tmp_path, "orders", "20251201T000000Z-aaaaaa", [order(1, 1), order(2, 2)])
    result = transform_dataset(spark, contract, lake, "t1", pending_raw_runs(lake, store, "orders"), {})
    plan = PublishPlan(
        "orders", "t1", result.staging_uri, lake.processed_dataset("orders"), result.partitions, ["x"], {}
    )
    calls = []
    register = ProcessedCatalog.register

    def crash_on_first_register(self, contract, root, folders):
        calls.append([values for values, _ in folders])
        if len(calls) == 1:
            raise KeyboardInterrupt("simulated crash after the move, before the catalog update")
        register(self, contract, root, folders)

    monkeypatch.setattr(ProcessedCatalog, "register", crash_on_first_register)
    with pytest.raises(KeyboardInterrupt):
        publish_partitions(plan, contract, lake, store, tables)
    assert Path(journal_uri(lake, "orders")).exists()
    assert list((tmp_path / "processed/orders").rglob("*.parquet"))  # the new versions are in place ...
    assert tables.published_folders("orders") == {}  # ... and no reader of the catalog sees them yet
    resumed = resume_publish(contract, lake, store, tables)
    assert resumed is not None and resumed.run_id == "t1"
    assert calls[-1] == result.partitions
    assert not Path(journal_uri(lake, "orders")).exists()
    assert published_rows(spark, contract, tmp_path) == {(1, "paid", "2025-06-01"), (2, "paid", "2025-06-02")}
    assert sorted(tables.published_folders("orders")) == ["order_date=2025-06-01", "order_date=2025-06-02"]
    assert resume_publish(contract, lake, store, tables) is None


def test_published_timestamps_are_int64_micros_with_statistics(spark, contract, tmp_path, raw_run):
    raw_run(tmp_path, "orders", "20251201T000000Z-aaaaaa", [order(1), order(2, updated="2025-06-11T09:30:00Z")])
    run_once(spark, contract, tmp_path, "t1")
    [part] = (tmp_path / "processed/orders").rglob("*.parquet")
    metadata = pq.ParquetFile(part).metadata
    column = metadata.row_group(0).column(metadata.schema.names.index("updated_at"))
    assert column.physical_type == "INT64"
    assert "isAdjustedToUTC=true, timeUnit=microseconds" in str(column.statistics.logical_type)
    assert (column.statistics.min, column.statistics.max) == (
        datetime(2025, 6, 10, tzinfo=UTC),
        datetime(2025, 6, 11, 9, 30, tzinfo=UTC),
    )


def test_timestamps_before_1582_are_written(spark, contract, tmp_path, raw_run):
    # Spark 3.5 (Glue 5) refuses to write them unless told how; Spark 4 writes them by default.
    raw_run(
        tmp_path,
        "orders",
        "20251201T000000Z-aaaaaa",
        [order(1).replace("2025-06-01T08:00:00Z", "1000-06-01T08:00:00Z")],
    )
    result, _ = run_once(spark, contract, tmp_path, "t1")
    assert (result.records_processed, result.partitions) == (1, [{"order_date": "1000-06-01"}])
    assert published_rows(spark, contract, tmp_path) == {(1, "paid", "1000-06-01")}


def test_partition_values_that_folder_names_escape_are_all_published(spark, contract, tmp_path, raw_run):
    """Spark writes `country=EU%3AWest` for "EU:West": publish must move that folder, not an unescaped one."""
    data = contract.model_dump(by_alias=True)
    data["schema"]["partition_keys"] = [{"name": "country", "type": "string", "expression": "shipping_country"}]
    by_country = parse_contract(data)
    countries = ["EU:West", "a/b", "50%", "x=y", "it's", "ok"]
    lines = [order(i).replace('"country": "DE"', json.dumps({"country": c})[1:-1]) for i, c in enumerate(countries)]
    lines.append(order(99).replace('"country": "DE"', '"country": ""'))  # Hive reads an empty value back as null
    raw_run(tmp_path, "orders", "20251201T000000Z-aaaaaa", lines)
    lake, store = Lake.local(tmp_path), LocalObjectStore()
    result = transform_dataset(spark, by_country, lake, "t1", pending_raw_runs(lake, store, "orders"), {})
    assert result.quarantine_reasons == {"no value for partition key country": 1}
    assert sorted(result.rows_per_partition.values()) == [1] * len(countries)
    plan = PublishPlan("orders", "t1", result.staging_uri, lake.processed_dataset("orders"), result.partitions, [], {})
    publish_partitions(plan, by_country, lake, store, processed_catalog(tmp_path))
    published = read_through_catalog(spark, by_country, tmp_path).collect()
    assert sorted((r["order_id"], r["shipping_country"], r["country"]) for r in published) == [
        (i, c, c) for i, c in enumerate(countries)
    ]
    assert (tmp_path / "processed/orders/country=EU%3AWest").is_dir()


def test_a_run_whose_every_record_is_quarantined_is_judged_and_reported(spark, contract, tmp_path, raw_run):
    """Nothing is staged: the expectations judge an empty table, and the run ends with a reason, not a crash."""
    raw_run(tmp_path, "orders", "20251201T000000Z-aaaaaa", ["{truncated", order(1, amount=-5.0)])
    lake, store = Lake.local(tmp_path), LocalObjectStore()
    summary = RunSummary("orders", "t1", "test", "2025-12-01T00:00:00+00:00")
    tables = processed_catalog(tmp_path)
    transform_validate_publish(lambda _records: spark, contract, lake, store, summary, tables)
    assert (summary.records_read, summary.records_quarantined, summary.records_processed) == (2, 2, 0)
    assert (summary.status, summary.published) == ("rejected", False)
    assert "row count at least 1" in summary.reason
    assert Path(write_run_report(summary, lake, store)).is_file()

    # Without a row count to require, the run publishes nothing and its raw runs are done: no endless retry.
    no_count = contract.model_copy(update={"quality": [e for e in contract.quality if e.expect != "row_count_between"]})
    summary = RunSummary("orders", "t2", "test", "2025-12-01T00:00:00+00:00")
    transform_validate_publish(lambda _records: spark, no_count, lake, store, summary, tables)
    assert (summary.status, summary.partitions_published, summary.records_quarantined) == ("published", [], 2)
    assert pending_raw_runs(lake, store, "orders") == []
    assert not list((tmp_path / "processed").rglob("*.parquet"))


@pytest.mark.parametrize("lost", ["partition", "table"])
def test_a_run_stops_when_the_catalog_has_lost_a_published_partition(spark, contract, tmp_path, raw_run, lost):
    """Its partition or table dropped, or the catalog restored from an older copy, a published partition looks
    unpublished: the run would publish its new records without the published ones, then delete those. It stops."""
    raw_run(tmp_path, "orders", "20251201T000000Z-aaaaaa", [order(1, day=1), order(2, day=2)])
    run_once(spark, contract, tmp_path, "t1")
    tables = processed_catalog(tmp_path)
    if lost == "partition":
        tables.catalog.delete_partitions("batchlake", "orders", [["2025-06-01"]])
    else:
        tables.catalog.delete_table("batchlake", "orders")
    raw_run(tmp_path, "orders", "20251202T000000Z-bbbbbb", [order(1, 1, "shipped", "2025-06-11T00:00:00Z"), "{bad"])
    lake, store = Lake.local(tmp_path), LocalObjectStore()
    summary = RunSummary("orders", "t2", "test", "2025-12-01T00:00:00+00:00")

    with pytest.raises(
        UserError,
        match=r"lists no published version of /\S+/processed/orders/order_date=2025-06-01, but the folder exists",
    ):
        transform_validate_publish(lambda _records: spark, contract, lake, store, summary, tables)
    assert [p.name for p in (tmp_path / "processed/orders/order_date=2025-06-01/t1").glob("*.parquet")]
    assert [r.run_id for r in pending_raw_runs(lake, store, "orders")] == ["20251202T000000Z-bbbbbb"]
    assert not (tmp_path / "quarantine").exists(), "a run that stops before its work quarantines nothing"


def test_a_run_id_that_has_published_already_is_refused(contract, tmp_path, raw_run, spark):
    """Its version folders are the ones readers use: a publish under the same id would write into them."""
    raw_run(tmp_path, "orders", "20251201T000000Z-aaaaaa", [order(1)])
    run_once(spark, contract, tmp_path, "t1")
    raw_run(tmp_path, "orders", "20251202T000000Z-bbbbbb", [order(2)])
    lake, store = Lake.local(tmp_path), LocalObjectStore()
    summary = RunSummary("orders", "t1", "test", "2025-12-01T00:00:00+00:00")

    def no_spark(_records):
        raise AssertionError("no JVM should start")

    with pytest.raises(UserError, match="run id t1 has published orders already: give each run a new id"):
        transform_validate_publish(no_spark, contract, lake, store, summary, processed_catalog(tmp_path))
