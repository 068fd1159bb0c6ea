"""Which raw runs a dataset's transform has already published (like Glue job bookmarks, kept in the lake).

A raw run is visible only once its `_manifest.json` exists; the bookmark lists the raw run ids whose records
are published. It moves forward only in the publish step, after the partitions are in place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from batchlake_core.errors import UserError
from batchlake_core.layout import MANIFEST_NAME, Lake
from batchlake_core.storage import ObjectStore

BOOKMARK_NAME = "transform_bookmark.json"


@dataclass(frozen=True)
class RawRun:
    run_id: str
    uri: str
    files: tuple[str, ...]
    records: int
    sha256: tuple[str, ...] = ()  # per file, as the manifest recorded it ("" when unknown)


class CorruptRawFileError(UserError):
    """A raw file no longer matches its manifest."""


def verify_raw_files(store: ObjectStore, runs: list[RawRun]) -> None:
    """Check every raw file against its manifest's sha256 before Spark reads it, so a damaged file is named in one
    line (and nothing is published) instead of failing deep inside a Spark job."""
    for run in runs:
        for uri, expected in zip(run.files, run.sha256, strict=False):
            if expected and hashlib.sha256(store.get_bytes(uri)).hexdigest() != expected:
                raise CorruptRawFileError(
                    f"raw file {uri} does not match its manifest (sha256 differs): restore it, or delete the run "
                    f"folder {run.uri} and re-ingest that period (lookback)"
                )


def committed_raw_runs(lake: Lake, store: ObjectStore, dataset: str) -> list[RawRun]:
    """Every raw run with a committed manifest, oldest first. Files not named by a manifest are ignored."""
    runs = []
    for uri in store.list(lake.raw_dataset(dataset)):
        if not uri.endswith("/" + MANIFEST_NAME):
            continue
        manifest = json.loads(store.get_bytes(uri))
        run_uri = uri.rsplit("/", 1)[0]
        files = tuple(f"{run_uri}/{f['name']}" for f in manifest["files"])
        sha256 = tuple(f.get("sha256", "") for f in manifest["files"])
        runs.append(RawRun(manifest["run_id"], run_uri, files, int(manifest["records"]), sha256))
    return sorted(runs, key=lambda r: r.run_id)


def bookmark_uri(lake: Lake, dataset: str) -> str:
    return f"{lake.state_dir(dataset)}/{BOOKMARK_NAME}"


def published_raw_runs(lake: Lake, store: ObjectStore, dataset: str) -> set[str]:
    uri = bookmark_uri(lake, dataset)
    if not store.exists(uri):
        return set()
    return set(json.loads(store.get_bytes(uri))["published_raw_runs"])


def pending_raw_runs(lake: Lake, store: ObjectStore, dataset: str) -> list[RawRun]:
    done = published_raw_runs(lake, store, dataset)
    return [r for r in committed_raw_runs(lake, store, dataset) if r.run_id not in done]


def advance_bookmark(lake: Lake, store: ObjectStore, dataset: str, raw_run_ids: list[str]) -> None:
    done = published_raw_runs(lake, store, dataset) | set(raw_run_ids)
    body = json.dumps({"published_raw_runs": sorted(done)}, indent=1).encode()
    store.put_bytes(bookmark_uri(lake, dataset), body, "application/json")
