"""Retries, backoff, Retry-After, timeouts, the retry budget, the rate limit, and pages that fail the run cleanly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from batchlake_ingest.client import parse_retry_after
from batchlake_ingest.errors import IngestError
from batchlake_ingest.pipeline import ingest_dataset

from .conftest import committed_runs, make_contract, read_raw
from .fake_api import FakeApi, Fault


def test_429_storm_honours_retry_after(api: FakeApi, lake) -> None:
    api.config.faults = [Fault(status=429, headers={"Retry-After": "0.2"}) for _ in range(5)]
    started = time.monotonic()
    contract = make_contract(api.url, concurrency=1, retry={"max_attempts": 6, "backoff_max_seconds": 0.05})
    result = ingest_dataset(contract, lake, "r1", progress=False)
    assert time.monotonic() - started >= 1.0  # 5 x 0.2 s, far above the 0.05 s backoff cap
    assert read_raw(lake) == api.records
    assert result.retries == 5 and result.requests == 15


def test_5xx_burst_is_retried_with_backoff(api: FakeApi, lake) -> None:
    api.config.faults = [Fault(status=s) for s in (500, 502, 503, 504)]
    result = ingest_dataset(make_contract(api.url), lake, "r1", progress=False)
    assert read_raw(lake) == api.records
    assert result.retries == 4


def test_timeouts_are_retried(api: FakeApi, lake) -> None:
    api.config.faults = [Fault(truncate=False, status=200, delay_seconds=1.5)]
    contract = make_contract(api.url, timeout_seconds=0.5)
    result = ingest_dataset(contract, lake, "r1", progress=False)
    assert read_raw(lake) == api.records
    assert result.retries == 1


def test_page_cut_short_once_is_fetched_again(api: FakeApi, lake) -> None:
    # page 1 answers 200 with half its body (valid Content-Length, so only the JSON parser can tell), then whole
    api.config.faults = [Fault(truncate=True)]
    result = ingest_dataset(make_contract(api.url, concurrency=1), lake, "r1", progress=False)
    assert read_raw(lake) == api.records
    assert result.records == len(api.records) and result.retries == 1
    pages = [r["query"].get("page", "1") for r in api.data_requests()]
    assert pages == ["1", "1"] + [str(p) for p in range(2, 11)]


def test_max_attempts_gives_up_with_one_line_naming_the_page(api: FakeApi, lake) -> None:
    api.config.faults = [Fault(status=503) for _ in range(10)]
    with pytest.raises(IngestError) as e:
        ingest_dataset(make_contract(api.url, retry={"max_attempts": 3}), lake, "r1", progress=False)
    assert str(e.value).startswith(f"page 1 ({api.url}/items?per_page=10&page=1): gave up after 3 attempts (HTTP 503)")
    assert len(api.data_requests()) == 3
    assert committed_runs(lake) == []


def test_retry_budget_bounds_the_total_wait(api: FakeApi, lake) -> None:
    api.config.faults = [Fault(status=429, headers={"Retry-After": "0.4"}) for _ in range(10)]
    retry = {"max_attempts": 50, "total_budget_seconds": 1.0}
    started = time.monotonic()
    with pytest.raises(IngestError, match=r"retry budget of 1s used up \(HTTP 429\): check the API"):
        ingest_dataset(make_contract(api.url, retry=retry), lake, "r1", progress=False)
    assert time.monotonic() - started < 2.0
    assert len(api.data_requests()) == 3  # two waits of 0.4 s fit in 1 s, the third does not


def test_unreachable_api_is_one_line(lake) -> None:
    contract = make_contract("http://127.0.0.1:9", retry={"max_attempts": 2})  # port 9 (discard): refused
    with pytest.raises(
        IngestError,
        match=r"page 1 \(http://127.0.0.1:9/items.*\): gave up after 2 attempts "
        r"\(connection refused\): check the API is up",
    ):
        ingest_dataset(contract, lake, "r1", progress=False)


def test_http_404_is_not_retried(api: FakeApi, lake) -> None:
    with pytest.raises(
        IngestError, match=r"page 1 .*/nope.*: HTTP 404 Not Found: check source.base_url and source.path"
    ):
        ingest_dataset(make_contract(api.url, path="/nope"), lake, "r1", progress=False)
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            Fault(truncate=True),
            r"page 4 \(.*page=4\): response is not JSON \(unexpected end of data .*\); gave up after 3 attempts: "
            r"check the URL and that the API returns JSON$",
        ),
        (Fault(status=200, body=b"<html>maintenance</html>"), r"page 4 \(.*page=4\): response is not JSON"),
        (
            Fault(status=200, body=b'{"data": {"id": 1}}'),
            r"page 4 .*: expected a list of records at 'data' but "
            r"found dict: fix source.records_path",
        ),
        (
            Fault(status=200, body=b'{"items": []}'),
            r"page 4 .*: expected a list of records at 'data' but found nothing",
        ),
        (Fault(status=200, body=b'{"data": [1, 2]}'), r"page 4 .*: records must be JSON objects"),
    ],
)
def test_bad_page_fails_the_run_and_nothing_half_written_is_visible(api: FakeApi, lake, fault, expected) -> None:
    ingest_dataset(make_contract(api.url), lake, "r0", progress=False)  # a first committed run
    api.records += [{"id": 1000 + i, "updated_at": "2027-01-01T00:00:00Z", "name": "new"} for i in range(50)]
    retry = {"max_attempts": 3, "backoff_initial_seconds": 0.01, "backoff_max_seconds": 0.02}
    contract = make_contract(api.url, concurrency=1, records_per_file=10, retry=retry)
    # fail on page 4, after three parts of 10 records were already written (a body that does not parse is
    # retried, so it is served on every attempt; a body of the wrong shape is not retried)
    attempts = 3 if fault.truncate or not fault.body.startswith(b"{") else 1
    api.config.faults = [Fault(status=200, body=api.page({"page": str(p)})[1]) for p in (1, 2, 3)] + [fault] * attempts
    with pytest.raises(IngestError, match=expected) as e:
        ingest_dataset(contract, lake, "r1", progress=False)
    assert "\n" not in str(e.value)
    assert [m["run_id"] for m in committed_runs(lake)] == ["r0"]
    run_dirs = list(Path(lake.raw_dataset("items")).glob("*/run_id=r1"))
    assert all(not (d / "_manifest.json").exists() for d in run_dirs)
    # the next run cleans the leftovers and ingests everything once
    result = ingest_dataset(contract, lake, "r2", progress=False)
    assert result.records == 145
    assert list(Path(lake.raw_dataset("items")).glob("*/run_id=r1")) == []
    assert len(read_raw(lake)) == 95 + 145


def test_rate_limit_spaces_requests(api: FakeApi, lake) -> None:
    started = time.monotonic()
    ingest_dataset(make_contract(api.url, rate_limit_per_second=20, concurrency=4), lake, "r1", progress=False)
    assert time.monotonic() - started >= 9 / 20 - 0.01  # 10 requests, evenly spaced at 20/s
    starts = sorted(r["t"] for r in api.requests)
    assert len(starts) == 10
    # the k-th request cannot start before k / 20 s (server and client share the monotonic clock)
    assert all(t >= started + k / 20 - 0.005 for k, t in enumerate(starts))


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert 50 < parse_retry_after(time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))) <= 60
