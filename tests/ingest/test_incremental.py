"""Incremental runs: request parameter from the cursor, lookback window, boundary duplicates removed by key."""

from __future__ import annotations

import orjson
import pytest
from batchlake_core.contract import IncrementalSpec
from batchlake_ingest.errors import IngestError
from batchlake_ingest.incremental import CursorState, CursorTracker, cursor_sort_key, minus_seconds
from batchlake_ingest.pipeline import ingest_dataset

from .conftest import committed_runs, make_contract, read_raw, read_run
from .fake_api import FakeApi, Fault, make_records

INCREMENTAL = {"cursor_field": "updated_at", "request_param": "updated_since"}


def cursor_file(lake) -> dict:
    from pathlib import Path

    return orjson.loads((Path(lake.state_dir("items")) / "ingest_cursor.json").read_bytes())


def test_second_run_fetches_only_changes_and_drops_the_boundary_duplicate(api: FakeApi, lake) -> None:
    contract = make_contract(api.url, incremental=INCREMENTAL)
    first = ingest_dataset(contract, lake, "r1", progress=False)
    assert first.records == 95 and first.cursor_before is None
    assert first.cursor_after == api.records[-1]["updated_at"] == "2026-01-01T01:34:00Z"
    assert api.data_requests()[0]["query"]["updated_since"] == "1970-01-01T00:00:00Z"

    updated = {**api.records[10], "updated_at": "2026-02-01T00:00:00Z", "name": "renamed"}
    new = make_records(3, start_id=200, base=first_run_end_plus_minutes(first.cursor_after, 5))
    api.records = [r for r in api.records if r["id"] != 11] + new + [updated]
    api.requests.clear()
    second = ingest_dataset(contract, lake, "r2", progress=False)
    assert api.data_requests()[0]["query"]["updated_since"] == first.cursor_after
    assert read_run(lake, committed_runs(lake)[1]) == [*new, updated]
    assert second.duplicates_dropped == 1  # record 95 (at the cursor) came again and was dropped
    assert (second.cursor_before, second.cursor_after) == (first.cursor_after, "2026-02-01T00:00:00Z")
    manifest = committed_runs(lake)[1]
    assert manifest["cursor"] == {"field": "updated_at", "previous": first.cursor_after, "value": second.cursor_after}

    third = ingest_dataset(contract, lake, "r3", progress=False)
    assert (third.records, third.duplicates_dropped, third.cursor_after) == (0, 1, second.cursor_after)
    assert committed_runs(lake)[2]["files"] == []  # an empty run is still recorded


def first_run_end_plus_minutes(value: str, minutes: int):
    from datetime import datetime, timedelta

    return datetime.fromisoformat(value) + timedelta(minutes=minutes)


def test_lookback_window_catches_late_records_without_duplicating(api: FakeApi, lake) -> None:
    contract = make_contract(api.url, incremental={**INCREMENTAL, "lookback_seconds": 300})
    first = ingest_dataset(contract, lake, "r1", progress=False)
    # a record committed late, stamped 2 minutes before the cursor: only the lookback window sees it
    late = {"id": 500, "updated_at": "2026-01-01T01:32:00Z", "name": "late"}
    api.records = sorted([*api.records, late], key=lambda r: (r["updated_at"], r["id"]))
    api.requests.clear()
    second = ingest_dataset(contract, lake, "r2", progress=False)
    assert api.data_requests()[0]["query"]["updated_since"] == "2026-01-01T01:29:00Z"  # cursor - 300 s
    assert read_run(lake, committed_runs(lake)[1]) == [late]
    assert second.duplicates_dropped == 6  # 01:29 .. 01:34 were loaded by the first run
    assert second.cursor_after == first.cursor_after
    third = ingest_dataset(contract, lake, "r3", progress=False)
    assert (third.records, third.duplicates_dropped) == (0, 7)
    ids = [r["id"] for r in read_raw(lake)]
    assert len(ids) == len(set(ids)) == 96


def test_without_lookback_the_late_record_is_missed(api: FakeApi, lake) -> None:
    """The reason for the lookback option (and a check that the test above is meaningful)."""
    contract = make_contract(api.url, incremental=INCREMENTAL)
    ingest_dataset(contract, lake, "r1", progress=False)
    api.records.append({"id": 500, "updated_at": "2026-01-01T01:32:00Z", "name": "late"})
    assert ingest_dataset(contract, lake, "r2", progress=False).records == 0


def test_failed_run_leaves_the_cursor_where_it_was(api: FakeApi, lake) -> None:
    contract = make_contract(api.url, incremental=INCREMENTAL)
    ingest_dataset(contract, lake, "r1", progress=False)
    before = cursor_file(lake)
    api.records.append({"id": 300, "updated_at": "2026-03-01T00:00:00Z", "name": "new"})
    api.config.faults = [Fault(status=200, body=b"not json")] * 5  # on every attempt (make_contract: max_attempts 5)
    with pytest.raises(IngestError):
        ingest_dataset(contract, lake, "r2", progress=False)
    assert cursor_file(lake) == before
    assert ingest_dataset(contract, lake, "r3", progress=False).records == 1


def test_record_without_the_cursor_field_is_a_one_line_error(api: FakeApi, lake) -> None:
    api.records[3] = {"id": 4, "name": "no timestamp"}
    with pytest.raises(IngestError, match=r"page 1 .*: record \{\"id\":4\} has no usable cursor field 'updated_at'"):
        ingest_dataset(make_contract(api.url, incremental=INCREMENTAL), lake, "r1", progress=False)


def test_cursor_values_order_by_instant_and_number() -> None:
    assert cursor_sort_key("2026-01-01T01:00:00+01:00") == cursor_sort_key("2026-01-01T00:00:00Z")
    assert cursor_sort_key("2026-01-01T00:00:00") == cursor_sort_key("2026-01-01T00:00:00Z")  # naive = UTC
    assert cursor_sort_key(10) < cursor_sort_key("11") < cursor_sort_key(11.5)
    assert minus_seconds("2026-01-01T00:00:00Z", 90) == "2025-12-31T23:58:30Z"
    assert minus_seconds("1700000000", 100) == "1699999900"


def test_tracker_window_is_bounded_while_records_arrive_sorted() -> None:
    spec = IncrementalSpec(cursor_field="u", request_param="since", lookback_seconds=10)
    tracker = CursorTracker(spec, ["id"], None)
    for page in range(100):
        tracker.filter_page([{"id": i, "u": i} for i in range(page * 1000, page * 1000 + 1000)], "p")
        assert len(tracker._window) < 3000  # pruned as the maximum moves on, not one entry per record
    state = tracker.next_state()
    assert state == CursorState(
        "u",
        "99999",
        [orjson.dumps([i, i]).decode() for i in sorted(range(99989, 100000), key=lambda i: orjson.dumps([i, i]))],
    )


def test_rerun_with_a_committed_run_id_fetches_nothing(api: FakeApi, lake) -> None:
    contract = make_contract(api.url, incremental=INCREMENTAL)
    first = ingest_dataset(contract, lake, "r1", progress=False)
    api.requests.clear()
    again = ingest_dataset(contract, lake, "r1", progress=False)
    assert again.already_committed and api.requests == []
    assert (again.records, again.files, again.manifest_uri, again.cursor_after) == (
        first.records,
        first.files,
        first.manifest_uri,
        first.cursor_after,
    )
    assert len(committed_runs(lake)) == 1
