"""The GX gate: two passes (BOOLEAN_ONLY, then SUMMARY for what needs details) keep counts and sample failing values."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from batchlake_core.contract import Expectation, load_contract
from batchlake_transforms.quality import columns_used, validate

pytestmark = pytest.mark.spark
REPO_ROOT = Path(__file__).resolve().parents[2]


def contract_with(quality: list[dict]):
    """The orders contract with other expectations: `validate` uses only the dataset name and `quality`."""
    base = load_contract(REPO_ROOT / "pipelines" / "orders.yaml")
    return base.model_copy(update={"quality": [Expectation.model_validate(q) for q in quality]})


@pytest.fixture(scope="module")
def things(spark):
    rows = [(i, "AB" if i % 10 else "x1", i, i % 7, "p" * 50) for i in range(1, 201)]
    rows += [(5, "AB", None, 99, "p")]  # id 5 twice, a null amount, an owner that does not exist
    return spark.createDataFrame(rows, "id bigint, code string, amount int, owner_id bigint, payload string")


def outcome(result, description_start: str):
    return next(o for o in result.outcomes if o.description.startswith(description_start))


def test_failing_expectations_keep_counts_and_sample_values(spark, things):
    contract = contract_with(
        [
            {"expect": "row_count_between", "min": 1, "max": 1000},
            {"expect": "unique", "column": "id"},
            {"expect": "not_null", "column": "amount", "severity": "warn"},
            {"expect": "between", "column": "amount", "min": 0, "max": 150},
            {"expect": "matches_regex", "column": "code", "regex": "^[A-Z]{2}$", "mostly": 0.5},
            {"expect": "references", "column": "owner_id", "dataset": "owners", "dataset_column": "id"},
            {"expect": "in_set", "column": "code", "values": ["AB", "x1"]},
        ]
    )
    owners = spark.range(0, 7)
    result = validate(things, contract, {("owners", "id"): owners}, now=datetime(2025, 1, 1, tzinfo=UTC))

    assert [o.success for o in result.outcomes] == [True, False, False, False, True, False, True]
    assert outcome(result, "row count").observed == "201"
    unique = outcome(result, "id is unique")
    assert unique.unexpected_count == 2 and unique.sample_unexpected == ["5", "5"]
    assert outcome(result, "amount is never null").unexpected_count == 1
    between = outcome(result, "amount between")
    assert between.unexpected_count == 50 and set(between.sample_unexpected) <= {str(i) for i in range(151, 201)}
    assert len(between.sample_unexpected) == 10  # the sample is capped
    # passes thanks to `mostly`, but its 20 tolerated failures are still counted and sampled
    regex = outcome(result, "code matches")
    assert (regex.success, regex.unexpected_count, set(regex.sample_unexpected)) == (True, 20, {"x1"})
    assert outcome(result, "owner_id exists in owners.id").sample_unexpected == ["99"]
    # a plain passing expectation is not re-run: no count, and the report says nothing was unexpected
    in_set = outcome(result, "code in")
    assert (in_set.unexpected_count, in_set.observed) == (None, "no unexpected value")
    assert [o.description for o in result.blocking_failures] == [
        "id is unique",
        "amount between 0.0 and 150.0",
        "owner_id exists in owners.id",
    ]
    assert not result.publishable
    # The GX result behind the outcomes (rendered as Data Docs) holds the merged detailed results, in contract order.
    assert [r.expectation_config.meta["position"] for r in result.gx_result.results] == list(range(7))
    assert result.gx_result.results[1].result["partial_unexpected_list"] == [5, 5]


def test_missing_referenced_dataset_counts_every_value_as_missing(spark, things):
    contract = contract_with(
        [
            {
                "expect": "references",
                "column": "owner_id",
                "dataset": "owners",
                "dataset_column": "id",
                "severity": "warn",
            }
        ]
    )
    result = validate(things, contract, {})
    (missing,) = result.outcomes
    assert (missing.success, missing.unexpected_count) == (False, 201)
    not_published = "owners is not published in this lake: every value counts as missing"
    assert missing.description == f"owner_id exists in owners.id ({not_published})"
    assert result.publishable  # warn only


def test_only_the_columns_the_expectations_use_are_read(things):
    contract = contract_with(
        [
            {"expect": "row_count_between", "min": 1},
            {"expect": "unique", "columns": ["id", "code"]},
            {"expect": "not_null", "column": "amount"},
            {"expect": "references", "column": "owner_id", "dataset": "owners", "dataset_column": "id"},
        ]
    )
    assert columns_used(contract.quality) == ["id", "code", "amount", "owner_id"]
    assert "payload" not in columns_used(contract.quality)


def test_no_expectations_no_result(things):
    result = validate(things, contract_with([]))
    assert result.outcomes == [] and result.gx_result is None and result.publishable


@pytest.mark.parametrize("local_zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_freshness_is_judged_in_utc_whatever_the_machines_time_zone(spark, monkeypatch, local_zone):
    """PySpark hands timestamps to Python in the process's local time zone; the threshold must be in the same one."""
    monkeypatch.setenv("TZ", local_zone)
    time.tzset()
    try:
        now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
        df = spark.createDataFrame([(1, "2025-06-01 09:00:00")], "id bigint, ts string").selectExpr(
            "id",
            "to_timestamp(ts) AS updated_at",  # 3 h before `now`, in the session's time zone: UTC
        )
        fresh = contract_with([{"expect": "fresher_than", "column": "updated_at", "max_age_hours": 4}])
        stale = contract_with([{"expect": "fresher_than", "column": "updated_at", "max_age_hours": 2}])
        assert validate(df, fresh, now=now).outcomes[0].success
        assert not validate(df, stale, now=now).outcomes[0].success
    finally:
        monkeypatch.undo()
        time.tzset()
