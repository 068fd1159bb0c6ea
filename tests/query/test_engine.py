"""The local engine's DDL against the catalog, bytes scanned, stored results, errors and the CLI."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from batchlake.query import DuckDBQueryEngine, QueryError, run_query

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def lake_copy(query_lake, tmp_path):
    """A private copy of the test lake, for tests that change the catalog."""
    root = tmp_path / "lake"
    shutil.copytree(query_lake.root, root)
    from batchlake_core.catalog import LocalCatalog
    from batchlake_core.layout import Lake

    catalog = LocalCatalog(root / "catalog" / "glue_catalog.sqlite")
    # locations in the copied catalog still point at the original lake: rewrite them
    old, new = str(query_lake.root), str(root)
    for table in catalog.list_tables("batchlake"):  # a table read back is a valid TableInput again
        table["StorageDescriptor"]["Location"] = table["StorageDescriptor"]["Location"].replace(old, new)
        catalog.upsert_table("batchlake", table)
        parts = catalog.get_partitions("batchlake", table["Name"])
        for p in parts:
            p["StorageDescriptor"]["Location"] = p["StorageDescriptor"]["Location"].replace(old, new)
        catalog.add_partitions("batchlake", table["Name"], parts)
    engine = DuckDBQueryEngine(Lake.local(root), catalog)
    yield root, catalog, engine
    engine.close()


def test_partition_filter_scans_fewer_bytes(query_lake):
    with DuckDBQueryEngine(query_lake.lake, query_lake.catalog) as engine:
        full = run_query("SELECT sum(total_amount) FROM orders", engine=engine)
        one_day = run_query("SELECT sum(total_amount) FROM orders WHERE order_date = DATE '2026-01-05'", engine=engine)
        one_column = run_query("SELECT count(DISTINCT customer_id) FROM orders", engine=engine)
        wide = run_query("SELECT count(DISTINCT items) FROM orders", engine=engine)
    assert full.bytes_scanned > 0
    assert 0 < one_day.bytes_scanned < full.bytes_scanned / 10
    assert one_column.bytes_scanned < wide.bytes_scanned  # column pruning


def test_results_are_stored_like_athena(query_lake):
    with DuckDBQueryEngine(query_lake.lake, query_lake.catalog) as engine:
        result = run_query("SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status", engine=engine)
    csv_path = Path(query_lake.lake.athena_results()) / f"{result.query_id}.csv"
    assert result.output_location == str(csv_path)
    lines = csv_path.read_text().splitlines()
    assert lines[0] == '"status","n"'
    assert len(lines) == 1 + len(result.rows)
    assert lines[1] == f'"{result.rows[0][0]}","{result.rows[0][1]}"'
    meta = json.loads(Path(str(csv_path) + ".metadata.json").read_text())
    assert meta["Status"]["State"] == "SUCCEEDED"
    assert meta["Statistics"]["DataScannedInBytes"] == result.bytes_scanned > 0
    assert "GROUP BY" in meta["EngineQuery"]
    assert [c["Name"] for c in meta["ResultSetMetadata"]["ColumnInfo"]] == ["status", "n"]


def test_ctas_writes_partitioned_parquet_and_registers_it(lake_copy, query_lake):
    root, catalog, engine = lake_copy
    target = root / "processed" / "status_daily"
    run_query(
        "CREATE TABLE status_daily WITH (format = 'PARQUET', external_location = '"
        + str(target)
        + "', partitioned_by = ARRAY['order_date']) AS "
        "SELECT status, count(*) AS n, order_date FROM orders GROUP BY status, order_date",
        engine=engine,
    )
    table = catalog.get_table("batchlake", "status_daily")
    assert table["PartitionKeys"] == [{"Name": "order_date", "Type": "date"}]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["status", "n"]
    partitions = catalog.get_partitions("batchlake", "status_daily")
    assert len(partitions) == query_lake.orders.order_date.nunique()
    assert list(target.glob("order_date=*/*.parquet"))
    total = run_query("SELECT sum(n) FROM status_daily", engine=engine).rows[0][0]
    assert total == len(query_lake.orders)
    with pytest.raises(QueryError, match="already exists"):
        run_query("CREATE TABLE status_daily AS SELECT 1 AS x", engine=engine)


def test_views_are_stored_in_the_catalog_as_athena_does(lake_copy, query_lake):
    root, catalog, engine = lake_copy
    run_query((REPO / "sql" / "orders" / "order_lines_view.sql").read_text(), engine=engine)
    view = catalog.get_table("batchlake", "order_lines")
    assert view["TableType"] == "VIRTUAL_VIEW" and view["ViewOriginalText"].startswith("/* Presto View: ")
    n_lines = sum(len(o["items"]) for o in query_lake.order_rows)
    assert run_query("SELECT count(*) FROM order_lines", engine=engine).rows == [(n_lines,)]
    assert run_query("SELECT max(line_number) FROM order_lines", engine=engine).rows[0][0] == max(
        len(o["items"]) for o in query_lake.order_rows
    )
    # a new engine (another process) sees the view through the catalog
    from batchlake_core.layout import Lake

    with DuckDBQueryEngine(Lake.local(root), catalog) as other:
        assert run_query("SELECT count(*) FROM order_lines", engine=other).rows == [(n_lines,)]


def test_external_table_msck_repair_and_add_partition(lake_copy):
    root, catalog, engine = lake_copy
    base = root / "external" / "clicks"
    for day, n in (("2026-01-01", 2), ("2026-01-02", 3)):
        (base / f"day={day}").mkdir(parents=True)
        pq.write_table(pa.table({"id": list(range(n))}), base / f"day={day}" / "part-0.parquet")
    elsewhere = root / "external" / "late-clicks"
    elsewhere.mkdir(parents=True)
    pq.write_table(pa.table({"id": [7, 8, 9, 10]}), elsewhere / "data.parquet")

    run_query(
        f"CREATE EXTERNAL TABLE clicks (id bigint) PARTITIONED BY (day string) STORED AS PARQUET LOCATION '{base}'",
        engine=engine,
    )
    assert run_query("SELECT count(*) FROM clicks", engine=engine).rows == [(0,)]  # no partitions yet
    repaired = run_query("MSCK REPAIR TABLE clicks", engine=engine)
    assert repaired.rows == [(2,)]
    assert run_query("SELECT day, count(*) FROM clicks GROUP BY day ORDER BY day", engine=engine).rows == [
        ("2026-01-01", 2),
        ("2026-01-02", 3),
    ]
    run_query(
        f"ALTER TABLE clicks ADD IF NOT EXISTS PARTITION (day = '2026-01-03') LOCATION '{elsewhere}'", engine=engine
    )
    assert run_query("SELECT count(*) FROM clicks WHERE day = '2026-01-03'", engine=engine).rows == [(4,)]
    assert [p["Values"] for p in catalog.get_partitions("batchlake", "clicks")] == [
        ["2026-01-01"],
        ["2026-01-02"],
        ["2026-01-03"],
    ]
    run_query("DROP TABLE clicks", engine=engine)
    assert catalog.get_table("batchlake", "clicks") is None and base.exists()  # data stays, as on Athena


def test_raw_json_table_from_the_crawler_is_queryable(tmp_path):
    import gzip

    from batchlake.crawler import crawl_raw
    from batchlake_core.catalog import LocalCatalog
    from batchlake_core.contract import load_contract
    from batchlake_core.layout import MANIFEST_NAME, Lake

    lake = Lake.local(tmp_path / "lake")
    catalog = LocalCatalog(tmp_path / "lake" / "catalog" / "glue_catalog.sqlite")
    run = Path(lake.raw_run("orders", "2026-01-01", "r1"))
    run.mkdir(parents=True)
    records = [
        {"order_id": 1, "total_amount": 10.5, "shipping": {"country": "FR"}, "created_at": "2026-01-01T10:00:00Z"},
        {"order_id": 2, "total_amount": 4, "shipping": {"country": "DE"}, "created_at": "2026-01-01T12:30:00+02:00"},
    ]
    (run / "part-00000.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode()))
    (run / MANIFEST_NAME).write_text(json.dumps({"files": [{"name": "part-00000.jsonl.gz", "records": 2}]}))
    crawl_raw(load_contract(REPO / "pipelines" / "orders.yaml"), lake, catalog, "batchlake")
    with DuckDBQueryEngine(lake, catalog) as engine:
        result = run_query(
            "SELECT order_id, total_amount, shipping.country, hour(created_at), ingest_date, run_id "
            "FROM raw_orders ORDER BY order_id",
            engine=engine,
        )
    assert result.rows == [(1, 10.5, "FR", 10, "2026-01-01", "r1"), (2, 4.0, "DE", 10, "2026-01-01", "r1")]


def test_unknown_table_names_the_tables_that_exist(query_lake):
    results = Path(query_lake.lake.athena_results())
    before = set(results.glob("*.metadata.json"))
    with DuckDBQueryEngine(query_lake.lake, query_lake.catalog) as engine, pytest.raises(QueryError) as info:
        run_query("SELECT * FROM order", engine=engine)
    message = str(info.value)
    assert "table order does not exist" in message and "tables: customers, " in message and "orders" in message
    (failed,) = set(results.glob("*.metadata.json")) - before  # recorded as FAILED, like Athena; no CSV
    meta = json.loads(failed.read_text())
    assert meta["Status"]["State"] == "FAILED" and meta["Status"]["StateChangeReason"] == message
    assert not Path(str(failed).removesuffix(".metadata.json")).exists()


def test_misspelt_column_names_the_columns_duckdb_suggests(query_lake):
    with DuckDBQueryEngine(query_lake.lake, query_lake.catalog) as engine, pytest.raises(QueryError) as info:
        run_query("SELECT custmer_id FROM orders", engine=engine)
    message = str(info.value)
    assert (
        '"custmer_id" not found' in message and "(columns DuckDB suggests: " in message and '"customer_id"' in message
    )
    assert "\n" not in message


def test_syntax_error_gives_the_position(query_lake):
    with DuckDBQueryEngine(query_lake.lake, query_lake.catalog) as engine, pytest.raises(QueryError) as info:
        run_query("SELECT order_id\nFROM orders WHERE (total_amount > 1", engine=engine)
    assert "line 2, column" in str(info.value) and "\n" not in str(info.value)


def test_contract_sql_files_run(query_lake):
    with DuckDBQueryEngine(query_lake.lake, query_lake.catalog) as engine:
        results = {p.name: run_query(p.read_text(), engine=engine, origin=str(p)) for p in REPO.glob("sql/*/*.sql")}
    expected_files = {
        "revenue_by_day.sql",
        "top_customers.sql",
        "basket_size_percentiles.sql",
        "late_and_cancelled.sql",
        "customers_by_country.sql",
        "cohort_retention.sql",
    }
    assert expected_files <= set(results)
    o = query_lake.orders
    kept = o[~o.status.isin(["cancelled", "returned"])]
    revenue = results["revenue_by_day.sql"]
    assert [r[0] for r in revenue.rows] == sorted(kept.order_date.unique())
    assert float(revenue.rows[-1][revenue.columns.index("cumulative_revenue")]) == pytest.approx(kept.amount.sum())
    by_country = results["customers_by_country.sql"]
    assert sum(r[2] for r in by_country.rows) == len(query_lake.customers)
    top = results["top_customers.sql"]
    best = kept.groupby("customer_id").amount.sum().sort_values(ascending=False)
    assert float(top.rows[0][2]) == pytest.approx(best.iloc[0])
    cohort = results["cohort_retention.sql"]
    assert cohort.rows and all(0 < r[4] <= 100 for r in cohort.rows)
    late = results["late_and_cancelled.sql"]
    assert sum(r[2] for r in late.rows) == (o.status == "cancelled").sum()


def _cli(capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    """Run `batchlake ...` in-process through the CLI's own entry point (the one that prints UserError)."""
    from batchlake.cli import main

    monkeypatch.setattr(sys, "argv", ["batchlake", *args])
    code = 0
    try:
        main()
    except SystemExit as e:
        code = e.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json_output_and_errors(query_lake, tmp_path, capsys, monkeypatch):
    root = str(query_lake.root)
    sql = "SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status"
    code, out, err = _cli(
        capsys, monkeypatch, "query", "--env", "local", "--lake", root, "--sql", sql, "--output", "json"
    )
    assert code == 0, err
    rows = json.loads(out)
    assert rows == [{"status": s, "n": int(n)} for s, n in query_lake.orders.groupby("status").size().items()]

    code, out, err = _cli(capsys, monkeypatch, "query", "--lake", root, "--sql", "SELECT * FROM nope")
    assert code == 2
    assert err.strip().count("\n") == 0 and "tables: customers" in err

    sql_file = tmp_path / "broken.sql"
    sql_file.write_text("SELECT a FROM orders WHERE")
    code, out, err = _cli(capsys, monkeypatch, "query", str(sql_file), "--lake", root)
    assert code == 2 and "broken.sql: syntax error at line 1" in err

    code, out, err = _cli(capsys, monkeypatch, "query", "--lake", root, "--sql", "SELECT 1 AS one", "--output", "csv")
    assert code == 0 and out == "one\n1\n"


def test_a_file_with_several_statements_returns_the_last_result(lake_copy):
    _root, catalog, engine = lake_copy
    sql = """
        CREATE OR REPLACE VIEW paid_orders AS SELECT order_id, total_amount FROM orders WHERE status = 'paid';
        SELECT count(*) AS n FROM paid_orders;
    """
    result = run_query(sql, engine=engine)
    assert result.columns == ["n"] and result.rows[0][0] > 0
    assert catalog.get_table("batchlake", "paid_orders")["TableType"] == "VIRTUAL_VIEW"


def test_engine_for_environment_picks_duckdb_locally(tmp_path):
    from batchlake.environment import local_environment
    from batchlake.query import engine_for_environment

    engine = engine_for_environment(local_environment(tmp_path / "lake"))
    try:
        assert isinstance(engine, DuckDBQueryEngine)
        assert run_query("SELECT 1 AS one", engine=engine).rows == [(1,)]
    finally:
        engine.close()


def test_show_and_describe_answer_from_the_catalog(query_lake):
    with DuckDBQueryEngine(query_lake.lake, query_lake.catalog) as engine:
        tables = [r[0] for r in run_query("SHOW TABLES", engine=engine).rows]
        partitions = run_query("SHOW PARTITIONS customers", engine=engine).rows
        described = run_query("DESCRIBE orders", engine=engine)
    assert {"orders", "customers"} <= set(tables)
    years = sorted({c["signup_date"].year for c in query_lake.customer_rows})
    assert partitions == [(f"signup_year={y}",) for y in years]
    assert described.rows[0] == ("order_id", "bigint", "")
    assert described.rows[-1] == ("order_date", "date", "partition key")
