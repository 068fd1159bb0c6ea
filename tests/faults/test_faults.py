"""Faults other than a kill: a flaky API, a raw file corrupted on disk, a full disk, two runs of one dataset at once.

Every `batchlake run` here is a real subprocess. The end state of a run that survives the fault is compared with
one uninterrupted run in this process over the same API data (`reference` fixture).
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from pathlib import Path

import pytest
import requests
from batchlake.demo_api.server import DemoApiServer
from batchlake.environment import local_environment
from batchlake.runner import PipelineRunner
from batchlake_core.contract import load_contract

from .conftest import (
    CUSTOMERS,
    ORDERS,
    assert_same_end_state,
    finish,
    processed_rows,
    run_batchlake,
    start_run,
)

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def api():
    with DemoApiServer(orders=ORDERS, customers=CUSTOMERS) as server:
        yield server


@pytest.fixture(scope="module")
def reference(api, fault_pipelines, spark, repo_root, tmp_path_factory) -> Path:
    """The lake after one uninterrupted run over the API's (never mutated) data, run in this process."""
    lake = tmp_path_factory.mktemp("reference")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHOP_API_URL", api.url)
        contract = load_contract(fault_pipelines / "orders.yaml")
        [summary] = PipelineRunner(local_environment(lake), repo_root).run([contract])
    assert summary.status == "published" and summary.processed_table_rows == ORDERS
    return lake


JAVA_STACK_FRAME = re.compile(r"^\s+at [\w$./]+\(.*\)$", re.MULTILINE)
SPARK_ERROR_LOG = re.compile(r"^\d\d:\d\d:\d\d ERROR ", re.MULTILINE)  # log4j2.properties' pattern


def message_problem(stderr: str, *fragments: str) -> str | None:
    """Why the user-facing output is not one clear error line containing one of `fragments` (None if it is)."""
    errors = [line for line in stderr.splitlines() if line.startswith("batchlake: error:")]
    if "Traceback" in stderr:
        last = [line for line in stderr.splitlines() if line.strip()][-1:]
        return f"a traceback instead of one error line (ends with: {last[0][:160] if last else ''})"
    if frame := JAVA_STACK_FRAME.search(stderr):
        return f"a Java stack trace ({frame.group().strip()[:160]})"
    if log := SPARK_ERROR_LOG.search(stderr):
        return f"Spark's own error log ({stderr[log.start() :].splitlines()[0][:160]})"
    if len(errors) != 1 or not any(f in errors[0] for f in fragments):
        return f"expected one `batchlake: error:` line naming {fragments}, got {errors}"
    return None


def summaries(lake: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((lake / "reports" / "orders").glob("*/summary.json"))]


# --- the API fails about one request in five ---


def test_api_failing_a_fifth_of_requests_gives_the_same_result(fault_pipelines, reference, tmp_path):
    # Same data as `api` (same seed and sizes); 5 requests/s server-side so the client meets 429s too.
    with DemoApiServer(orders=ORDERS, customers=CUSTOMERS, max_rps=5) as flaky:
        # Seed 10 puts 5xx answers and timeouts (slow > the contract's 1 s timeout) among the first 24 requests.
        faults = {"error_rate": 0.15, "slow_rate": 0.05, "slow_seconds": 1.5, "seed": 10}
        requests.post(f"{flaky.url}/_admin/faults", json=faults, timeout=10).raise_for_status()
        outcome = run_batchlake(tmp_path / "lake", fault_pipelines, flaky.url)
        stats = requests.get(f"{flaky.url}/_admin/stats", timeout=10).json()
    assert outcome.returncode == 0, outcome.stderr[-3000:]
    injected = stats["faults_injected"]
    assert injected.get("rate_limited", 0) > 0 and injected.get("slow", 0) > 0, injected
    assert sum(v for k, v in injected.items() if k.startswith("error_")) > 0, injected
    failed = sum(injected.values())  # every injected fault is a failed attempt (slow ones time out at 1 s)
    assert failed / stats["requests"] >= 0.15, stats
    assert_same_end_state(tmp_path / "lake", reference)
    [summary] = summaries(tmp_path / "lake")
    assert summary["reconciled"] and summary["records_duplicate"] == 0


def test_api_answering_200_with_a_cut_body_is_retried(fault_pipelines, tmp_path):
    with DemoApiServer(orders=ORDERS, customers=CUSTOMERS) as flaky:
        # Seed 10 cuts the body of data requests 5 and 19 in half (HTTP 200, valid Content-Length).
        faults = {"truncate_rate": 0.05, "seed": 10}
        requests.post(f"{flaky.url}/_admin/faults", json=faults, timeout=10).raise_for_status()
        outcome = run_batchlake(tmp_path / "lake", fault_pipelines, flaky.url, BATCHLAKE_CRASH_AT="after_crawl")
        stats = requests.get(f"{flaky.url}/_admin/stats", timeout=10).json()
    assert stats["faults_injected"].get("truncated", 0) > 0, stats
    assert outcome.returncode == -9, outcome.stderr[-3000:]  # ingested and crawled, killed before the transform
    manifests = list((tmp_path / "lake" / "raw" / "orders").rglob("_manifest.json"))
    assert sum(json.loads(m.read_text())["records"] for m in manifests) == ORDERS


# --- a committed raw file is damaged before the transform reads it ---


def test_corrupted_raw_file_fails_and_publishes_nothing(api, fault_pipelines, tmp_path):
    lake = tmp_path / "lake"
    crashed = run_batchlake(lake, fault_pipelines, api.url, BATCHLAKE_CRASH_AT="after_crawl")
    assert crashed.returncode == -9
    part = sorted((lake / "raw" / "orders").rglob("part-*.jsonl.gz"))[1]
    data = bytearray(part.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\x00" * 64  # a damaged block in the middle of the gzip stream
    part.write_bytes(bytes(data))

    outcome = run_batchlake(lake, fault_pipelines, api.url)
    assert outcome.returncode not in (0, -9), outcome.stderr[-3000:]
    assert processed_rows(lake) == []
    assert not (lake / "state" / "orders" / "transform_bookmark.json").exists()
    assert message_problem(outcome.stderr, part.name) is None, outcome.stderr[-3000:]


# --- the disk fills up while writing ---


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)]
    return subprocess.run(mount, capture_output=True).returncode == 0


def _resize_tmpfs(where: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(where)], check=True, capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """A lake root on its own 128 KiB tmpfs (one filesystem, so publish can rename); needs root to mount."""
    lake = tmp_path / "lake"
    if not _mount_tmpfs(lake, "128k"):
        pytest.skip("mounting a tmpfs needs root (CAP_SYS_ADMIN): the disk-full test runs only as root")
    try:
        yield lake
    finally:
        subprocess.run(["umount", "-l", str(lake)], capture_output=True)


DISK_FULL = ("No space left on device", "disk is full")


def test_disk_full_while_writing_fails_cleanly_then_recovers(small_disk, api, fault_pipelines, reference):
    lake = small_disk
    problems = []
    # 1. 128 KiB: the raw files (~160 KiB for 2,000 orders) do not fit; the ingest fails, nothing is committed.
    full_raw = run_batchlake(lake, fault_pipelines, api.url)
    assert full_raw.returncode not in (0, -9), full_raw.stderr[-3000:]
    assert not list(lake.rglob("_manifest.json"))
    problems.append(message_problem(full_raw.stderr, *DISK_FULL))

    # 2. 1 MiB: raw, catalog and state fit, the staged Parquet (~3 MiB, 183 partitions) does not.
    _resize_tmpfs(lake, "1m")
    full_staging = run_batchlake(lake, fault_pipelines, api.url)
    assert full_staging.returncode not in (0, -9), full_staging.stderr[-3000:]
    assert list(lake.rglob("_manifest.json")) and processed_rows(lake) == []
    problems.append(message_problem(full_staging.stderr, "disk full while writing the staged output"))

    # 3. Space is freed: the next run publishes exactly what an uninterrupted run does.
    _resize_tmpfs(lake, "64m")
    recovered = run_batchlake(lake, fault_pipelines, api.url)
    assert recovered.returncode == 0, recovered.stderr[-3000:]
    assert_same_end_state(lake, reference)
    assert problems == [None, None], problems


# --- two runs of one dataset at once ---


def test_second_run_of_the_same_dataset_waits_for_the_first(api, fault_pipelines, reference, tmp_path):
    lake = tmp_path / "lake"
    first = start_run(lake, fault_pipelines, api.url)
    lines: list[str] = []
    in_transform = threading.Event()

    def read_first() -> None:
        assert first.stderr is not None
        for line in first.stderr:
            lines.append(line)
            if "orders: transform" in line:
                in_transform.set()

    reader = threading.Thread(target=read_first, daemon=True)
    reader.start()
    assert in_transform.wait(timeout=240), "".join(lines)[-3000:]
    second = finish(start_run(lake, fault_pipelines, api.url))
    first.wait(timeout=240)
    reader.join(timeout=10)
    finish(first)

    assert first.returncode == 0, "".join(lines)[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    assert "another run of this dataset is in progress" in second.stderr
    one, two = summaries(lake)
    assert one["finished_at"] <= two["started_at"], (one, two)  # never interleaved
    assert one["records_ingested"] == ORDERS and two["records_ingested"] == 0
    assert two["status"] == "no new data"
    assert_same_end_state(lake, reference)
