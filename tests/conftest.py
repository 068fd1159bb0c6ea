"""Fixtures shared by every test layer."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local Spark session for the whole test run (start-up costs ~6 s)."""
    from batchlake_transforms.spark import local_spark_session

    session = local_spark_session(tmp_path_factory.mktemp("spark"), app_name="batchlake-tests", cores="2")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def raw_run():
    """`raw_run(lake_root, dataset, run_id, lines)` writes a committed raw run."""
    return write_raw_run


def write_raw_run(
    lake_root: Path, dataset: str, run_id: str, lines: list[str], ingest_date: str = "2025-12-01"
) -> Path:
    """A committed raw run as the ingest writes it: gzip JSONL part + manifest (written last)."""
    run_dir = lake_root / "raw" / dataset / f"ingest_date={ingest_date}" / f"run_id={run_id}"
    run_dir.mkdir(parents=True, exist_ok=True)
    part = run_dir / "part-00000.jsonl.gz"
    with gzip.open(part, "wt", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
    manifest = {
        "dataset": dataset,
        "run_id": run_id,
        "ingest_date": ingest_date,
        "status": "committed",
        "files": [{"name": part.name, "records": len(lines), "bytes": part.stat().st_size, "sha256": ""}],
        "records": len(lines),
    }
    (run_dir / "_manifest.json").write_text(json.dumps(manifest))
    return run_dir
