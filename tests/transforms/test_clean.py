"""The pure cleaning functions on small inline DataFrames."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from batchlake_core.contract import ContractError, parse_contract
from batchlake_transforms.clean import (
    ORIGIN,
    RAW,
    RAW_RUN_ID,
    REJECT_REASON,
    clean,
    keep_latest,
    split_rejected,
    with_published,
)
from batchlake_transforms.schema import needs_exact_decimal
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

pytestmark = pytest.mark.spark

CONTRACT = parse_contract(
    {
        "dataset": "orders",
        "source": {"base_url": "http://x", "path": "/o", "paginator": {"type": "page_number"}, "primary_key": ["id"]},
        "schema": {
            "columns": [
                {"name": "id", "type": "bigint", "nullable": False},
                {"name": "amount", "type": "decimal(10,2)"},
                {"name": "country", "type": "string", "source": "shipping.country"},
                {"name": "tags", "type": "array<string>"},
                {"name": "created_at", "type": "timestamp", "nullable": False},
                {"name": "updated_at", "type": "timestamp", "nullable": False},
            ],
            "partition_keys": [{"name": "day", "type": "date", "expression": "to_date(created_at)"}],
        },
        "transform": {"filters": ["amount >= 0"], "order_by": "updated_at"},
    }
)


def lines_df(spark, records, run_id="r1"):
    rows = [(r if isinstance(r, str) else json.dumps(r), run_id) for r in records]
    return spark.createDataFrame(rows, f"{RAW} string, {RAW_RUN_ID} string")


def good(i, amount="1.50", updated="2025-06-01T12:00:00Z"):
    return {
        "id": i,
        "amount": amount,
        "shipping": {"country": "DE"},
        "tags": ["a"],
        "created_at": "2025-06-01T10:00:00Z",
        "updated_at": updated,
    }


def test_clean_types_columns_and_derives_partition(spark):
    out = clean(lines_df(spark, [good(1)]), CONTRACT).drop(RAW, RAW_RUN_ID)
    expected = spark.createDataFrame(
        [(1, Decimal("1.50"), "DE", ["a"], datetime(2025, 6, 1, 10), datetime(2025, 6, 1, 12), None, date(2025, 6, 1))],
        "id bigint, amount decimal(10,2), country string, tags array<string>, created_at timestamp, "
        f"updated_at timestamp, {REJECT_REASON} string, day date",
    )
    assertDataFrameEqual(out, expected)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("{not json", "malformed record: not JSON or not the contract's shape"),
        ({**good(2), "shipping": "not an object"}, "malformed record: not JSON or not the contract's shape"),
        ({k: v for k, v in good(3).items() if k != "id"}, "missing required field id"),
        ({**good(4), "amount": "12,50"}, "invalid decimal(10,2) for amount: 12,50"),
        ({**good(5), "created_at": "yesterday"}, "invalid timestamp for created_at: yesterday"),
        ({**good(6), "amount": "-3.00"}, "failed filter: amount >= 0"),
    ],
)
def test_bad_records_get_a_reason_and_none_are_lost(spark, record, reason):
    rows = clean(lines_df(spark, [good(1), record]), CONTRACT)
    kept, rejected = split_rejected(rows)
    assert kept.count() == 1
    assert [r[REJECT_REASON] for r in rejected.collect()] == [reason]


def test_a_record_without_its_key_is_quarantined_even_where_the_key_may_be_null(spark):
    """Records without a key would all be kept as one: the key is required whatever the column's `nullable` says."""
    data = CONTRACT.model_dump(by_alias=True)
    data["schema"]["columns"][0]["nullable"] = True
    nullable_key = parse_contract(data)
    rows = clean(
        lines_df(spark, [good(1), {**good(2), "id": None}, {k: v for k, v in good(3).items() if k != "id"}]),
        nullable_key,
    )
    assert sorted(r[REJECT_REASON] or "" for r in rows.collect()) == ["", *["missing required field id"] * 2]


def test_a_partition_value_that_does_not_cast_to_the_key_type_is_quarantined(spark):
    """Under ANSI mode a plain cast of "DE" to int would fail the whole run."""
    data = CONTRACT.model_dump(by_alias=True)
    data["schema"]["partition_keys"] = [{"name": "bucket", "type": "int", "expression": "substring(country, 1, 2)"}]
    by_bucket = parse_contract(data)
    lines = [good(1), {**good(2), "shipping": {"country": "42"}}]
    rows = clean(lines_df(spark, lines), by_bucket).select("id", "bucket", REJECT_REASON)
    assert sorted(rows.collect()) == [(1, None, "no value for partition key bucket"), (2, 42, None)]


@pytest.mark.parametrize(
    ("filters", "partition_expression", "fragments"),
    [
        (["amout >= 0"], "to_date(created_at)", ["transform.filters[0]", "'amout >= 0'", "`amout`", "`amount`"]),
        (["amount >= 0", "amount >="], "to_date(created_at)", ["transform.filters[1]", "PARSE_SYNTAX_ERROR"]),
        (["amount"], "to_date(created_at)", ["transform.filters[0]", "gives decimal(10,2), not a condition"]),
        (["amount >= 0"], "to_dat(created_at)", ["schema.partition_keys[0].expression", "`to_dat`"]),
    ],
)
def test_a_contract_expression_spark_cannot_use_is_a_contract_error(spark, filters, partition_expression, fragments):
    """Caught when the plan is built, before a row is read: one line naming the field, not a Spark stack trace."""
    data = CONTRACT.model_dump(by_alias=True)
    data["transform"]["filters"] = filters
    data["schema"]["partition_keys"][0]["expression"] = partition_expression
    with pytest.raises(ContractError) as error:
        clean(lines_df(spark, [good(1)]), parse_contract(data))
    message = str(error.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_a_record_whose_filter_or_partition_key_cannot_be_computed_is_quarantined(spark):
    """Under ANSI mode a division by zero, or an index out of range, in a contract's expression would fail the run."""
    data = CONTRACT.model_dump(by_alias=True)
    data["transform"]["filters"] = ["amount / (id - 1) > 0"]
    data["schema"]["partition_keys"] = [{"name": "second_tag", "type": "string", "expression": "element_at(tags, 2)"}]
    contract = parse_contract(data)
    lines = [{**good(i), "tags": ["a", "b"]} for i in (1, 2)] + [good(3)]
    rows = clean(lines_df(spark, lines), contract).select("id", "second_tag", REJECT_REASON).persist()
    try:
        assert sorted(rows.collect()) == [
            (1, "b", "failed filter: amount / (id - 1) > 0"),
            (2, "b", None),
            (3, None, "no value for partition key second_tag"),
        ]
        assert rows.where(F.col(REJECT_REASON).isNull()).count() == 1  # planned again, after the session's ANSI is back
    finally:
        rows.unpersist()
    assert spark.conf.get("spark.sql.ansi.enabled") == "true"
    with pytest.raises(Exception, match="DIVIDE_BY_ZERO"):  # the rest of the job keeps ANSI mode
        spark.range(1).select(F.expr("1 / 0")).collect()


def test_merge_keeps_latest_version_and_published_wins_ties(spark):
    new = clean(
        lines_df(spark, [good(1, "1.00", "2025-06-02T00:00:00Z"), good(2, "2.00", "2025-06-01T12:00:00Z")], "r2"),
        CONTRACT,
    ).drop(RAW, REJECT_REASON)
    older = clean(lines_df(spark, [good(1, "9.00", "2025-06-01T12:00:00Z")], "r1"), CONTRACT).drop(RAW, REJECT_REASON)
    published = older.drop(RAW_RUN_ID).union(
        clean(lines_df(spark, [good(2, "7.00", "2025-06-01T12:00:00Z")]), CONTRACT).drop(RAW, REJECT_REASON, RAW_RUN_ID)
    )
    merged = keep_latest(with_published(new, published), CONTRACT)
    got = {r["id"]: (str(r["amount"]), r[ORIGIN]) for r in merged.collect()}
    # id 1: the newer update from this run wins; id 2: same updated_at, the published row stays.
    assert got == {1: ("1.00", 1), 2: ("7.00", 0)}


def test_without_order_by_the_newest_raw_run_wins_even_over_published(spark):
    """With nothing to order versions by, a record ingested again is taken as its update."""
    unordered = CONTRACT.model_copy(update={"transform": CONTRACT.transform.model_copy(update={"order_by": None})})
    assert unordered.order_by is None
    published = clean(lines_df(spark, [good(1, "9.00")]), unordered).drop(RAW, REJECT_REASON, RAW_RUN_ID)
    older = clean(lines_df(spark, [good(1, "1.00")], "20250101T000000Z-aaaaaa"), unordered)
    newest = clean(lines_df(spark, [good(1, "2.00")], "20250102T000000Z-bbbbbb"), unordered)
    merged = keep_latest(with_published(older.union(newest).drop(RAW, REJECT_REASON), published), unordered)
    assert [(str(r["amount"]), r[ORIGIN]) for r in merged.collect()] == [("2.00", 1)]


def test_dedupe_and_write_share_one_shuffle(spark):
    """Clustered by partition for the write, the rows need no second shuffle to be deduplicated within a partition."""
    rows = with_published(clean(lines_df(spark, [good(1), good(2), good(1)]), CONTRACT).drop(RAW, REJECT_REASON), None)
    merged = keep_latest(rows, CONTRACT)
    assert merged._jdf.queryExecution().executedPlan().toString().count("Exchange") == 1
    assert sorted(r["id"] for r in merged.collect()) == [1, 2]


def test_merge_breaks_ties_within_a_batch_by_newest_raw_run(spark):
    a = clean(lines_df(spark, [good(1, "1.00")], "20250101T000000Z-aaaaaa"), CONTRACT)
    b = clean(lines_df(spark, [good(1, "2.00")], "20250102T000000Z-bbbbbb"), CONTRACT)
    merged = keep_latest(with_published(a.union(b).drop(RAW, REJECT_REASON), None), CONTRACT)
    assert [str(r["amount"]) for r in merged.collect()] == ["2.00"]
    assert merged.where(F.col(ORIGIN) == 1).count() == 1


WIDE_DECIMAL = parse_contract(
    {
        "dataset": "ledger",
        "source": {"base_url": "http://x", "path": "/l", "paginator": {"type": "page_number"}, "primary_key": ["id"]},
        "schema": {
            "columns": [
                {"name": "id", "type": "bigint", "nullable": False},
                {"name": "amount", "type": "decimal(38,20)", "source": "money.amount", "nullable": False},
                {"name": "updated_at", "type": "timestamp", "nullable": False},
            ]
        },
    }
)


@pytest.mark.parametrize(
    ("raw_amount", "expected"),
    [
        # JSON numbers with more digits than a double keeps: read through a double, they lost digits.
        ("12345678901234567.89", Decimal("12345678901234567.89")),
        ("0.10000000000000000555", Decimal("0.10000000000000000555")),
        ("-98765432109876543.21e-1", Decimal("-9876543210987654.321")),
        # The same digits given as JSON strings, and a short number: unchanged.
        ('"12345678901234567.89"', Decimal("12345678901234567.89")),
        ("2.5", Decimal("2.5")),
        ('"12.5\\n"', Decimal("12.5")),  # try_cast trims a string's line break, as before
        # Underflows to a zero double: zero at any scale, and not re-read (exactly, 1e-100000000 takes minutes).
        ("1e-100000000", Decimal("0E-20")),
        ('"1e-100000000"', Decimal("0E-20")),
    ],
)
def test_a_wide_decimal_keeps_every_digit(spark, raw_amount, expected):
    line = f'{{"id": 1, "money": {{"amount": {raw_amount}}}, "updated_at": "2025-06-01T12:00:00Z"}}'
    [row] = clean(lines_df(spark, [line]), WIDE_DECIMAL).collect()
    assert (row["amount"], row[REJECT_REASON]) == (expected, None)


@pytest.mark.parametrize("raw_amount", ['"1,5"', "1e40", '"12.5 EUR"', '"1e999"'])
def test_a_wide_decimal_that_is_not_a_number_is_quarantined(spark, raw_amount):
    line = f'{{"id": 1, "money": {{"amount": {raw_amount}}}, "updated_at": "2025-06-01T12:00:00Z"}}'
    [row] = clean(lines_df(spark, [line]), WIDE_DECIMAL).collect()
    assert row["amount"] is None
    assert row[REJECT_REASON].startswith("invalid decimal(38,20) for amount: ")


def test_a_missing_wide_decimal_is_quarantined_as_missing(spark):
    line = '{"id": 1, "money": {}, "updated_at": "2025-06-01T12:00:00Z"}'
    [row] = clean(lines_df(spark, [line]), WIDE_DECIMAL).collect()
    assert row[REJECT_REASON] == "missing required field amount"


@pytest.mark.parametrize(("decimal_type", "exact"), [("decimal(15,2)", False), ("decimal(16,2)", True)])
def test_only_decimals_wider_than_a_double_are_read_again(decimal_type, exact):
    column = WIDE_DECIMAL.schema.columns[1].model_copy(update={"type": decimal_type})
    assert needs_exact_decimal(column) is exact
