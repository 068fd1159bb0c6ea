"""The dataset itself: realistic, consistent, deterministic records; mutations (in-process, no HTTP)."""

import re
from collections import Counter
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from batchlake.demo_api.data import STATUSES, Dataset, iso_dates, iso_seconds, parse_timestamp

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
EMAIL = re.compile(r"^[a-z0-9._]+@[a-z0-9.]+\.[a-z]+$")


def all_orders(dataset: Dataset) -> list[dict]:
    return dataset.records("orders", np.arange(1, dataset.n_orders + 1))


def all_customers(dataset: Dataset) -> list[dict]:
    return dataset.records("customers", np.arange(1, dataset.n_customers + 1))


@pytest.fixture(scope="module")
def dataset():
    return Dataset(orders=3_000, customers=400, seed=3)


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def test_orders_are_consistent_and_realistic(dataset):
    orders = all_orders(dataset)
    customers = {c["customer_id"]: c for c in all_customers(dataset)}
    assert [o["order_id"] for o in orders] == list(range(1, 3_001))
    for o in orders:
        assert o["customer_id"] in customers  # referential integrity
        assert parse(customers[o["customer_id"]]["created_at"]) <= parse(o["created_at"])  # signed up first
        assert o["status"] in STATUSES and o["channel"] in ("web", "app", "marketplace")
        assert o["currency"] in ("EUR", "USD", "GBP")
        assert 1 <= len(o["items"]) <= 6
        assert o["total_amount"] == round(sum(i["quantity"] * i["unit_price"] for i in o["items"]), 2)
        for item in o["items"]:
            assert re.fullmatch(r"SKU-\d{5}", item["sku"]) and item["name"] and item["quantity"] >= 1
            assert item["unit_price"] == round(item["unit_price"], 2) > 0
        assert re.fullmatch(r"[A-Z]{2}", o["shipping"]["country"]) and o["shipping"]["city"]
        assert o["shipping"]["method"] in ("standard", "express", "pickup")
        assert TS.match(o["created_at"]) and TS.match(o["updated_at"])
        assert "2025-06-01T00:00:00Z" <= o["created_at"] <= "2025-11-30T23:59:59Z"
        assert o["updated_at"] >= o["created_at"]
        assert date.fromisoformat(o["promised_date"]) > date.fromisoformat(o["created_at"][:10])
        if o["status"] in ("delivered", "returned"):
            assert TS.match(o["delivered_at"]) and o["created_at"] < o["delivered_at"] <= o["updated_at"]
        else:
            assert o["delivered_at"] is None
    statuses = Counter(o["status"] for o in orders)
    assert set(statuses) == set(STATUSES)  # every status occurs
    assert statuses["delivered"] > len(orders) / 2  # most orders of the past months have arrived


def test_customers_are_valid(dataset):
    customers = all_customers(dataset)
    emails = [c["email"] for c in customers]
    assert len(set(emails)) == len(emails)
    for c in customers:
        assert EMAIL.match(c["email"]) and c["email"] == c["email"].lower()
        assert " " in c["full_name"] and re.fullmatch(r"[A-Z]{2}", c["country"]) and c["city"]
        assert c["segment"] in ("consumer", "small_business", "enterprise")
        assert isinstance(c["marketing_opt_in"], bool)
        assert c["signup_date"] == c["created_at"][:10] and c["updated_at"] >= c["created_at"]


def test_same_seed_same_records_other_seed_other_records():
    ids = np.arange(1, 501)
    a, b, c = Dataset(500, 50, seed=1), Dataset(500, 50, seed=1), Dataset(500, 50, seed=2)
    assert a.encode("orders", ids) == b.encode("orders", ids)
    assert a.encode("customers", ids[:50]) == b.encode("customers", ids[:50])
    assert a.encode("orders", ids) != c.encode("orders", ids)


def test_sorted_keys_follow_updated_at_then_id(dataset):
    keys = dataset.sorted_keys("orders")
    ids = (keys & 0xFFFFFFFF).astype(np.int64)
    records = dataset.records("orders", ids)
    pairs = [(r["updated_at"], r["order_id"]) for r in records]
    assert pairs == sorted(pairs) and len(set(ids.tolist())) == dataset.n_orders


def test_mutate_changes_recent_orders_after_every_previous_update():
    dataset = Dataset(orders=5_000, customers=300, seed=5)
    before = {o["order_id"]: o for o in all_orders(dataset)}
    newest_update = max(o["updated_at"] for o in before.values())
    newest_created = max(parse(o["created_at"]) for o in before.values())
    result = dataset.mutate(changed_fraction=0.02, new_fraction=0.01, recent_days=7, seed=1)
    assert result["changed"] == 100 and result["new"] == 50 and result["orders_total"] == 5_050
    after = {o["order_id"]: o for o in all_orders(dataset)}
    changed = [i for i in before if after[i] != before[i]]
    assert len(changed) == 100
    for i in changed:
        assert after[i]["updated_at"] > newest_update  # later than every previous updated_at
        assert parse(after[i]["created_at"]) >= newest_created - timedelta(days=7)  # recent_days respected
        assert after[i]["created_at"] == before[i]["created_at"] and after[i]["order_id"] == i
        assert after[i]["total_amount"] == round(sum(x["quantity"] * x["unit_price"] for x in after[i]["items"]), 2)
    # something besides updated_at changes for orders that were still open
    assert sum(after[i]["status"] != before[i]["status"] for i in changed) > 50
    new = [after[i] for i in range(5_001, 5_051)]
    assert all(o["status"] == "placed" and o["created_at"] == o["updated_at"] > newest_update for o in new)
    keys = dataset.sorted_keys("orders")
    assert len(keys) == 5_050 and np.all(np.diff(keys) > 0)


def test_mutate_is_deterministic_and_uniform_without_recent_days():
    first, second = Dataset(4_000, 200, seed=9), Dataset(4_000, 200, seed=9)
    assert first.mutate(0.05, 0.0, None, seed=3) == second.mutate(0.05, 0.0, None, seed=3)
    ids = np.arange(1, 4_001)
    assert first.encode("orders", ids) == second.encode("orders", ids)
    second.reset()
    again = second.mutate(0.05, 0.0, None, seed=3)  # after a reset the same call changes the same orders
    assert again["changed"] == 200 and first.encode("orders", ids) == second.encode("orders", ids)
    changed = np.flatnonzero(second._updated > np.sort(second._updated)[-201]) + 1
    created = [o["created_at"] for o in second.records("orders", changed)]
    assert min(created) < "2025-08-01" and max(created) > "2025-10-01"  # spread over the whole period


def test_mutate_caps_at_the_candidates():
    dataset = Dataset(orders=1_000, customers=100, seed=1)
    result = dataset.mutate(changed_fraction=1.0, recent_days=1, seed=1)
    assert result["changed"] == result["candidates"] < 1_000
    with pytest.raises(ValueError):
        dataset.mutate(changed_fraction=2.0)


def test_a_million_orders_fit_in_modest_memory():
    dataset = Dataset(orders=1_000_000, customers=20_000, seed=42)
    arrays = (dataset._created, dataset._updated, dataset._delivered, dataset._status, dataset._extra_qty)
    assert sum(a.nbytes for a in arrays) + dataset.sorted_keys("orders").nbytes < 50 * 1024 * 1024
    page = dataset.records("orders", (dataset.sorted_keys("orders")[-1000:] & 0xFFFFFFFF).astype(np.int64))
    assert len(page) == 1000 and page[-1]["updated_at"] <= "2025-11-30T23:59:59Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-01T00:00:00Z", "2025-06-01T00:00:00"),
        ("2025-06-01", "2025-06-01T00:00:00"),
        ("2025-06-01T02:00:00+02:00", "2025-06-01T00:00:00"),
        ("2025-06-01T00:00:00.250Z", "2025-06-01T00:00:01"),  # whole-second records: >= .25 means >= :01
    ],
)
def test_parse_timestamp(text, expected):
    assert parse_timestamp(text) == int(np.datetime64(expected, "s").astype(np.int64))
    with pytest.raises(ValueError):
        parse_timestamp("last tuesday")


def test_timestamp_formatting_matches_numpy_inside_and_outside_the_fast_range():
    inside = np.array([0, 1_748_736_000, 1_764_547_199, 1_764_547_200 + 86_399])
    outside = np.array([-1, 60_000 * 86_400 + 5])
    for seconds in (inside, outside):
        expected = [f"{s}Z" for s in np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")]
        assert iso_seconds(seconds) == expected
        assert iso_dates(seconds) == [s[:10] for s in expected]
