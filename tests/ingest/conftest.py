from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from batchlake_core.contract import DatasetContract, parse_contract
from batchlake_core.layout import Lake

from .fake_api import FakeApi

SCHEMA = {"columns": [{"name": "id", "type": "bigint"}, {"name": "updated_at", "type": "timestamp"}]}


@pytest.fixture
def api() -> Iterator[FakeApi]:
    with FakeApi() as server:
        yield server


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake.local(tmp_path / "lake")


def make_contract(url: str, dataset: str = "items", **source: Any) -> DatasetContract:
    """A contract for the fake API's /items; `source` keys override the defaults (page number paginator)."""
    spec: dict[str, Any] = {
        "base_url": url,
        "path": "/items",
        "params": {"per_page": 10},
        "paginator": {"type": "page_number", "total_pages_path": "meta.total_pages"},
        "records_path": "data",
        "primary_key": ["id"],
        "retry": {"max_attempts": 5, "backoff_initial_seconds": 0.01, "backoff_max_seconds": 0.05},
        "timeout_seconds": 5,
    }
    spec.update(source)
    return parse_contract({"dataset": dataset, "source": spec, "schema": SCHEMA})


def committed_runs(lake: Lake, dataset: str = "items") -> list[dict[str, Any]]:
    """Manifests of every committed run, oldest first."""
    root = Path(lake.raw_dataset(dataset))
    manifests = [orjson.loads(p.read_bytes()) for p in root.glob("ingest_date=*/run_id=*/_manifest.json")]
    return sorted(manifests, key=lambda m: (m["committed_at"], m["run_id"]))


def read_run(lake: Lake, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Records of one committed run, checking each part against its manifest entry."""
    run_dir = Path(lake.raw_run(manifest["dataset"], manifest["ingest_date"], manifest["run_id"]))
    records = []
    for part in manifest["files"]:
        data = (run_dir / part["name"]).read_bytes()
        assert len(data) == part["bytes"]
        assert hashlib.sha256(data).hexdigest() == part["sha256"]
        lines = gzip.decompress(data).splitlines()
        assert len(lines) == part["records"]
        records += [orjson.loads(line) for line in lines]
    assert len(records) == manifest["records"]
    return records


def read_raw(lake: Lake, dataset: str = "items") -> list[dict[str, Any]]:
    """Every record of every committed run, in run order (what a reader of the raw zone sees)."""
    return [r for m in committed_runs(lake, dataset) for r in read_run(lake, m)]
