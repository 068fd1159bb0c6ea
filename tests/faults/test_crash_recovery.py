"""SIGKILL `batchlake run` at every stage, rerun, and get exactly what an uninterrupted run gets.

One lake goes through a chain of runs. Before each, the demo API changes some orders and adds a few (so every run
has new data to carry through all stages); each run is a real `batchlake run orders` subprocess killed at one point
(a named crash point, `BATCHLAKE_CRASH_AT` / `BATCHLAKE_INGEST_CRASH_AT`, or a kill from outside while Spark writes
the staged Parquet). Each next run must recover whatever the previous one left. Several crash points are reached
during the *recovery* of the previous crash (a publish interrupted four times). After each kill, a reader of the
catalog sees every published order once. After a last clean run the lake must hold exactly what one uninterrupted
run over the final API data holds: the same rows by key and content, the same catalog partitions, no duplicate,
nothing lost, no staging, journal or replaced version left, and every finished run reconciled.
Chaining the kill points keeps the Spark start-ups (~7 s each) to one per point that needs a transform; the points
of the publish step are reached while resuming an interrupted publish wherever the state they leave is the same.
"""

from __future__ import annotations

import json
import time
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
    kill_group,
    processed_rows,
    run_batchlake,
    start_run,
)

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SIGKILLED = -9
# (environment variable, crash spec). The order matters: see the comments on the publish points.
CHAIN = [
    ("BATCHLAKE_INGEST_CRASH_AT", "after_first_page"),  # pages fetched, nothing committed
    ("BATCHLAKE_INGEST_CRASH_AT", "after_part_written:2"),  # two raw parts written, no manifest
    ("BATCHLAKE_INGEST_CRASH_AT", "before_manifest"),  # every part written, no manifest
    ("BATCHLAKE_INGEST_CRASH_AT", "after_manifest"),  # raw run committed, cursor not saved (re-fetched next time)
    ("BATCHLAKE_INGEST_CRASH_AT", "after_cursor"),  # raw run and cursor saved, nothing else
    ("BATCHLAKE_CRASH_AT", "before_ingest"),
    ("BATCHLAKE_CRASH_AT", "after_ingest"),
    ("BATCHLAKE_CRASH_AT", "after_crawl"),
    ("BATCHLAKE_CRASH_AT", "before_staging_write"),  # quarantine written, staging not
    ("", "while Spark writes staging"),  # killed from outside once Spark's output committer has started
    ("BATCHLAKE_CRASH_AT", "after_staging_write"),  # staged, not validated
    ("BATCHLAKE_CRASH_AT", "before_journal"),  # validated, nothing published
    ("BATCHLAKE_CRASH_AT", "mid_swap:2"),  # journal written, two partitions swapped in
    # Reached while resuming that publish, before any new data is transformed: these runs start no Spark.
    ("BATCHLAKE_CRASH_AT", "mid_swap:3"),  # the resume passes the two swapped partitions, swaps the 3rd, dies
    ("BATCHLAKE_CRASH_AT", "after_register"),  # every partition swapped and registered, bookmark not advanced
    ("BATCHLAKE_CRASH_AT", "after_bookmark"),  # bookmark advanced, staging and journal left
    # A fresh publish again: the resume above is finished first, then the new data is transformed and journaled.
    ("BATCHLAKE_CRASH_AT", "after_journal"),  # journal written, no partition swapped
    ("BATCHLAKE_CRASH_AT", "after_publish"),  # resumes (every swap real); a fresh run publishes, no report written
]


@pytest.fixture(scope="module")
def api():
    with DemoApiServer(orders=ORDERS, customers=CUSTOMERS) as server:
        yield server


def mutate(api_url: str, seed: int) -> dict:
    body = {"changed_fraction": 0.02, "new_fraction": 0.005, "recent_days": None, "seed": seed}
    return requests.post(f"{api_url}/_admin/mutate", json=body, timeout=30).json()


def kill_while_spark_writes(lake: Path, pipelines: Path, api_url: str) -> int:
    """Start a run and SIGKILL its process group as soon as Spark starts writing the staged output.

    The staging folder of a run appears only when Spark's committer sets up the write job (with dynamic partition
    overwrite, its `.spark-staging-<job>` folder comes first); the kill lands while tasks write their files.
    """
    proc = start_run(lake, pipelines, api_url)
    staging = lake / "staging" / "orders"
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        if staging.exists() and any(staging.glob("*/*")):
            kill_group(proc)
            break
        time.sleep(0.005)
    return finish(proc).returncode


def reconciled_summaries(lake: Path) -> list[dict]:
    summaries = [json.loads(p.read_text()) for p in (lake / "reports" / "orders").glob("*/summary.json")]
    return [s for s in summaries if s["status"] != "failed"]


@pytest.mark.timeout(2400)  # ~3 min on a lightly loaded 2-core machine; far longer on a loaded one
def test_kill_at_every_stage_then_rerun_equals_uninterrupted_run(
    api, fault_pipelines, spark, repo_root, tmp_path, monkeypatch
):
    lake = tmp_path / "lake"
    killed = []
    for seed, (variable, spec) in enumerate(CHAIN, start=1):
        mutate(api.url, seed)
        started = time.monotonic()
        if variable:
            outcome = run_batchlake(lake, fault_pipelines, api.url, **{variable: spec})
            code, detail = outcome.returncode, outcome.stderr[-600:]
        else:
            code, detail = kill_while_spark_writes(lake, fault_pipelines, api.url), ""
        assert code == SIGKILLED, f"{spec}: the run was not killed there (exit {code}): {detail}"
        # What a reader of the catalog sees until the next run recovers: one version of every order, never two.
        keys = [row[0] for row in processed_rows(lake)]
        assert len(keys) == len(set(keys)), f"{spec}: a reader of the catalog sees an order twice"
        killed.append(spec)
        print(f"killed at {spec} after {time.monotonic() - started:.1f} s")

    mutate(api.url, len(CHAIN) + 1)
    last = run_batchlake(lake, fault_pipelines, api.url)
    assert last.returncode == 0, last.stderr[-2000:]
    assert len(killed) == len(CHAIN)

    # The uninterrupted reference: one run over the API's final data, in this process.
    monkeypatch.setenv("SHOP_API_URL", api.url)
    reference = tmp_path / "reference"
    contract = load_contract(fault_pipelines / "orders.yaml")
    [summary] = PipelineRunner(local_environment(reference), repo_root).run([contract])
    assert summary.status == "published"
    total = requests.get(f"{api.url}/health", timeout=10).json()["orders"]
    assert summary.processed_table_rows == total

    assert_same_end_state(lake, reference)
    finished = reconciled_summaries(lake)
    assert finished and all(s["reconciled"] for s in finished)
