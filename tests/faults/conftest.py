"""Helpers for the fault-injection tests: `batchlake run` as a real subprocess, and a lake's observable end state.

The contract is the shipped `pipelines/orders.yaml` with small pages and part files (so a 2,000-order run has many
pages and several raw parts to crash between), quick retries, and no SQL files (queries are not what is tested).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml
from batchlake_core.contract import load_contract

BATCHLAKE = str(Path(sys.executable).with_name("batchlake"))
ORDERS, CUSTOMERS = 2000, 300
RUN_TIMEOUT = 240


@pytest.fixture(scope="session")
def fault_pipelines(tmp_path_factory, repo_root) -> Path:
    """A pipelines folder holding only `orders.yaml`, adjusted for fast fault tests."""
    folder = tmp_path_factory.mktemp("fault-pipelines")
    body = yaml.safe_load((repo_root / "pipelines" / "orders.yaml").read_text())
    source = body["source"]
    source["params"]["per_page"] = 100
    source["records_per_file"] = 500
    source["timeout_seconds"] = 1
    source["retry"] = {"max_attempts": 10, "backoff_initial_seconds": 0.05, "backoff_max_seconds": 0.5}
    body.pop("sql", None)
    (folder / "orders.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
    load_contract(folder / "orders.yaml")  # still a valid contract
    return folder


@dataclass
class Finished:
    returncode: int
    stderr: str
    seconds: float


def start_run(lake: Path, pipelines: Path, api_url: str, **env: str) -> subprocess.Popen:
    """`batchlake run orders` in its own process group (so its JVM can be killed with it)."""
    cmd = [BATCHLAKE, "run", "orders", "--env", "local", "--lake", str(lake), "--pipelines", str(pipelines)]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHLAKE_")}
    full_env |= {"SHOP_API_URL": api_url, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **env}
    return subprocess.Popen(
        cmd, env=full_env, cwd=pipelines, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL whatever is left of the run's process group (the JVM outlives a SIGKILLed Python parent)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def finish(proc: subprocess.Popen, timeout: float = RUN_TIMEOUT) -> Finished:
    start = time.monotonic()
    try:
        _, stderr = proc.communicate(timeout=timeout)
    finally:
        kill_group(proc)
    return Finished(proc.returncode, stderr, time.monotonic() - start)


def run_batchlake(lake: Path, pipelines: Path, api_url: str, **env: str) -> Finished:
    return finish(start_run(lake, pipelines, api_url, **env))


def published_folders(lake: Path, dataset: str = "orders") -> dict[str, str]:
    """Partition -> folder of its published version, as the catalog says."""
    from batchlake.environment import local_environment
    from batchlake_core.catalog.tables import ProcessedCatalog

    env = local_environment(lake)
    return ProcessedCatalog(env.catalog, env.database).published_folders(dataset)


def processed_rows(lake: Path, dataset: str = "orders") -> list[tuple]:
    """Every published row as a reader of the catalog sees it, all columns (partition column included), sorted."""
    files = [str(f) for folder in published_folders(lake, dataset).values() for f in Path(folder).rglob("*.parquet")]
    if not files:
        return []
    with duckdb.connect() as con:
        return con.execute("SELECT * FROM read_parquet(?, hive_partitioning = true) ORDER BY ALL", [files]).fetchall()


def catalog_partitions(lake: Path, dataset: str = "orders") -> list[str]:
    """The partition folders the catalog names, relative to the lake root, each version folder as `<run>`; every one
    must be the existing folder of a run's version."""
    folders = published_folders(lake, dataset).values()
    for folder in folders:
        assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", Path(folder).name), f"not a version folder: {folder}"
        assert any(Path(folder).glob("*.parquet")), f"the catalog names a folder without data: {folder}"
    return sorted(folder.replace(str(lake), "<lake>").rsplit("/", 1)[0] + "/<run>" for folder in folders)


def leftovers(lake: Path, dataset: str = "orders") -> list[str]:
    """Things a finished, successful run must not leave behind: staged partitions, a publish journal, versions of a
    partition that the catalog no longer names."""
    staging = lake / "staging" / dataset
    left = [str(p.relative_to(lake)) for p in staging.glob("*")] if staging.exists() else []
    journal = lake / "state" / dataset / "publish_journal.json"
    current = tuple(f"{folder}/" for folder in published_folders(lake, dataset).values())
    processed = (lake / "processed" / dataset).rglob("*.parquet")
    left += [str(p.relative_to(lake)) for p in processed if not str(p).startswith(current)]
    return left + ([str(journal.relative_to(lake))] if journal.exists() else [])


def assert_same_end_state(lake: Path, reference: Path) -> None:
    rows, expected = processed_rows(lake), processed_rows(reference)
    keys = [r[0] for r in rows]
    assert len(keys) == len(set(keys)), "an order_id is published twice"
    missing = {r[0] for r in expected} - set(keys)
    extra = set(keys) - {r[0] for r in expected}
    assert not missing and not extra, f"lost {sorted(missing)[:10]}, unexpected {sorted(extra)[:10]}"
    differing = [a[0] for a, b in zip(rows, expected, strict=True) if a != b]
    assert not differing, f"{len(differing)} rows differ from the uninterrupted run, e.g. order_id {differing[:5]}"
    assert catalog_partitions(lake) == catalog_partitions(reference)
    assert leftovers(lake) == []
