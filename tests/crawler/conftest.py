from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest
from batchlake_core.layout import MANIFEST_NAME, Lake


def write_raw_run(lake: Lake, dataset: str, ingest_date: str, run_id: str, files: list[list[dict]], manifest=True):
    """A raw run as ingest writes it: gzip JSON-lines parts, then `_manifest.json` last."""
    run = Path(lake.raw_run(dataset, ingest_date, run_id))
    run.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, records in enumerate(files):
        data = gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode())
        name = f"part-{i:05d}.jsonl.gz"
        (run / name).write_bytes(data)
        entries.append(
            {"name": name, "records": len(records), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        )
    if manifest:
        body = {
            "dataset": dataset,
            "run_id": run_id,
            "ingest_date": ingest_date,
            "status": "committed",
            "files": entries,
            "records": sum(e["records"] for e in entries),
            "cursor": None,
        }
        (run / MANIFEST_NAME).write_text(json.dumps(body))
    return run


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake.local(tmp_path / "lake")


@pytest.fixture
def raw_run():
    return write_raw_run
