"""Exactly once across crashes: a real ingest subprocess is SIGKILLed at named points (and at random moments),
then rerun; the raw zone must hold exactly the records of an uninterrupted run, none lost, none duplicated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from batchlake_core.layout import Lake
from batchlake_ingest.faults import ENV_VAR
from batchlake_ingest.pipeline import ingest_dataset

from .conftest import committed_runs, make_contract, read_raw
from .fake_api import FakeApi, make_records

RUNNER = """
import json, sys
from batchlake_core.contract import parse_contract
from batchlake_core.layout import Lake
from batchlake_ingest.pipeline import ingest_dataset
contract = parse_contract(json.loads(sys.argv[1]))
print("ready", flush=True)
ingest_dataset(contract, Lake.local(sys.argv[2]), sys.argv[3], progress=False)
"""
INCREMENTAL = {"cursor_field": "updated_at", "request_param": "updated_since", "lookback_seconds": 120}


def contract_json(url: str) -> str:
    contract = make_contract(url, incremental=INCREMENTAL, records_per_file=20, concurrency=3)
    return json.dumps(contract.model_dump(mode="json", by_alias=True, exclude_none=True))


def run_ingest(url: str, lake_root: Path, run_id: str, crash_at: str | None = None, kill_after: float | None = None):
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    if crash_at:
        env[ENV_VAR] = crash_at
    cmd = [sys.executable, "-c", RUNNER, contract_json(url), str(lake_root), run_id]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if kill_after is not None:
        assert process.stdout.readline() == b"ready\n"  # imports done: the clock starts at the ingest itself
        time.sleep(kill_after)
        process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr.decode()


def phase_a(api: FakeApi) -> None:
    api.records = make_records(60)


def phase_b(api: FakeApi) -> None:
    """35 new records and 5 updates, one of them inside the lookback window."""
    updated = [{**r, "updated_at": "2026-01-02T00:00:00Z", "name": "updated"} for r in api.records[20:25]]
    late = {"id": 999, "updated_at": "2026-01-01T00:58:30Z", "name": "late"}  # 30 s before the cursor
    api.records = sorted(
        [r for r in api.records if r["id"] not in {u["id"] for u in updated}]
        + make_records(35, start_id=61, base=datetime(2026, 1, 1, 2, tzinfo=UTC))
        + updated
        + [late],
        key=lambda r: (r["updated_at"], r["id"]),
    )


def as_multiset(records: list[dict]) -> Counter:
    return Counter(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in records)


@pytest.fixture(scope="module")
def expected() -> Counter:
    """The raw records after an uninterrupted phase A run and phase B run."""
    import tempfile

    with FakeApi() as api, tempfile.TemporaryDirectory() as tmp:
        lake = Lake.local(tmp)
        contract = make_contract(api.url, incremental=INCREMENTAL, records_per_file=20, concurrency=3)
        phase_a(api)
        ingest_dataset(contract, lake, "a", progress=False)
        phase_b(api)
        ingest_dataset(contract, lake, "b", progress=False)
        records = read_raw(lake)
    assert len(records) == 60 + 35 + 5 + 1
    return as_multiset(records)


POINTS = ["after_first_page", "after_part_written:2", "before_manifest", "after_manifest", "after_cursor"]


@pytest.mark.parametrize("crash_at", POINTS)
def test_kill_at_a_named_point_then_rerun_gives_the_same_records(
    tmp_path: Path, expected: Counter, crash_at: str
) -> None:
    root = tmp_path / "lake"
    lake = Lake.local(root)
    with FakeApi() as api:
        for phase, name in ((phase_a, "a"), (phase_b, "b")):
            phase(api)
            code, stderr = run_ingest(api.url, root, f"{name}1", crash_at=crash_at)
            assert code == -signal.SIGKILL, stderr
            visible = [m["run_id"] for m in committed_runs(lake)]
            assert (f"{name}1" in visible) == (crash_at in ("after_manifest", "after_cursor"))
            code, stderr = run_ingest(api.url, root, f"{name}2")
            assert code == 0, stderr
        assert as_multiset(read_raw(lake)) == expected
        if crash_at == "after_manifest":  # the rerun rolled the cursor forward instead of fetching again
            assert [m["records"] for m in committed_runs(lake)] == [60, 0, 41, 0]
    leftovers = [
        p for p in (root / "raw").rglob("*") if p.is_file() and p.parent.joinpath("_manifest.json").exists() is False
    ]
    assert leftovers == []  # the killed runs' unfinished folders were removed
    assert sorted(p.name for p in (root / "state" / "items").iterdir()) == ["ingest_cursor.json"]


@pytest.mark.parametrize("kill_after", [0.05, 0.15, 0.3])
def test_kill_at_a_random_moment_then_rerun_gives_the_same_records(
    tmp_path: Path, expected: Counter, kill_after: float
) -> None:
    root = tmp_path / "lake"
    with FakeApi() as api:
        api.config.page_delays = {p: 0.1 for p in range(1, 20)}  # a run takes about 0.4 s
        for phase, name in ((phase_a, "a"), (phase_b, "b")):
            phase(api)
            run_ingest(api.url, root, f"{name}1", kill_after=kill_after)  # may or may not have finished
            code, stderr = run_ingest(api.url, root, f"{name}2")
            assert code == 0, stderr
        assert as_multiset(read_raw(Lake.local(root))) == expected
