"""Publish: move the staged partitions into the processed zone as new versions, then switch the catalog to them.

Before anything moves, a journal (`state/<dataset>/publish_journal.json`) records what will be published. Each
staged partition then becomes a new version folder beside the published one (`order_date=2025-06-01/<run_id>/`), the
catalog's partition locations switch to the new versions, the transform bookmark advances, the old versions are
deleted and the journal is removed. A reader that goes through the catalog (Athena, the local query engine, the next
transform) sees each partition's old rows until the switch and its new rows after it, never both. If the process dies
in between, `resume_publish` finishes the same publish on the next run (roll forward); every step can be repeated.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

from batchlake_core import faults
from batchlake_core.catalog.tables import ProcessedCatalog, partition_path, version_folder
from batchlake_core.contract import DatasetContract
from batchlake_core.layout import Lake
from batchlake_core.storage import ObjectStore

from batchlake_transforms.bookmarks import advance_bookmark, published_raw_runs
from batchlake_transforms.report import SUMMARY_NAME

JOURNAL_NAME = "publish_journal.json"
LINEAGE_NAME = "_lineage.json"  # leading underscore: Athena, Hive and DuckDB globs skip it


@dataclass
class PublishPlan:
    dataset: str
    run_id: str
    staging_uri: str
    processed_uri: str
    partitions: list[dict[str, str]]
    raw_runs: list[str]
    lineage: dict


def journal_uri(lake: Lake, dataset: str) -> str:
    return f"{lake.state_dir(dataset)}/{JOURNAL_NAME}"


def _in_folder(parent: str, rel: str) -> str:
    return f"{parent}/{rel}" if rel else parent


def _move_staged(lake: Lake, store: ObjectStore, staged: str, version: str) -> bool:
    """Move a staged partition to its version folder; False when there was nothing staged (moved by an earlier,
    interrupted attempt). Safe to repeat after a crash at any point."""
    if lake.is_local:
        if not Path(staged).exists():
            return False
        Path(version).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, version)
        return True
    # S3 has no rename: copy, then delete the staged objects once every one is copied
    staged_keys = list(store.list(staged))
    for uri in staged_keys:
        store.put_bytes(f"{version}/{uri[len(staged) + 1 :]}", store.get_bytes(uri))
    if staged_keys:
        store.delete_prefix(staged)
    return bool(staged_keys)


def _delete_other_versions(lake: Lake, store: ObjectStore, partition: str, keep: str) -> None:
    """Remove what the partition's folder holds besides version `keep`: older versions, and the files of a partition
    published before versions existed (written straight into its folder)."""
    if lake.is_local:
        for path in Path(partition).iterdir() if Path(partition).is_dir() else []:
            if path.name == keep:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        return
    uris = list(store.list(partition))
    for name in {uri[len(partition) + 1 :].split("/", 1)[0] for uri in uris} - {keep}:
        if f"{partition}/{name}" in uris:
            store.delete(f"{partition}/{name}")
        else:
            store.delete_prefix(f"{partition}/{name}")


def _published_folder(store: ObjectStore, plan: PublishPlan, values: dict[str, str], moved: bool) -> str:
    """The folder that holds a partition once it is moved: its version folder. A journal that batchlake wrote before
    version folders existed may name partitions its publish had already swapped in place: their folder is the
    partition folder itself, and it is kept as it is. Only a partition with nothing left to move is looked at."""
    version = version_folder(plan.processed_uri, values, plan.run_id)
    if moved or next(iter(store.list(version)), None) is not None:
        return version
    return _in_folder(plan.processed_uri, partition_path(values))


def _apply(
    plan: PublishPlan, contract: DatasetContract, lake: Lake, store: ObjectStore, tables: ProcessedCatalog
) -> None:
    folders = []
    for values in plan.partitions:
        version = version_folder(plan.processed_uri, values, plan.run_id)
        moved = _move_staged(lake, store, _in_folder(plan.staging_uri, partition_path(values)), version)
        folders.append((values, _published_folder(store, plan, values, moved)))
        faults.point("mid_swap")
    tables.register(contract, plan.processed_uri, folders)
    faults.point("after_register")
    advance_bookmark(lake, store, plan.dataset, plan.raw_runs)
    faults.point("after_bookmark")
    for values, folder in folders:
        if folder == version_folder(plan.processed_uri, values, plan.run_id):
            _delete_other_versions(lake, store, _in_folder(plan.processed_uri, partition_path(values)), plan.run_id)
    store.delete_prefix(plan.staging_uri)
    store.delete(journal_uri(lake, plan.dataset))


def publish_partitions(
    plan: PublishPlan, contract: DatasetContract, lake: Lake, store: ObjectStore, tables: ProcessedCatalog
) -> None:
    """Write lineage into each staged partition, journal the plan, move, switch the catalog, advance the bookmark."""
    faults.point("before_journal")
    for values in plan.partitions:
        lineage = {**plan.lineage, "partition": values}
        staged = _in_folder(plan.staging_uri, partition_path(values))
        store.put_bytes(f"{staged}/{LINEAGE_NAME}", json.dumps(lineage).encode())
    store.put_bytes(journal_uri(lake, plan.dataset), json.dumps(asdict(plan)).encode(), "application/json")
    faults.point("after_journal")
    _apply(plan, contract, lake, store, tables)


def resume_publish(
    contract: DatasetContract, lake: Lake, store: ObjectStore, tables: ProcessedCatalog
) -> PublishPlan | None:
    """Finish a publish that a crash interrupted; returns its plan, or None when there was none."""
    uri = journal_uri(lake, contract.dataset)
    if not store.exists(uri):
        return None
    plan = PublishPlan(**json.loads(store.get_bytes(uri)))
    _apply(plan, contract, lake, store, tables)
    return plan


def discard_staging(store: ObjectStore, staging_uri: str) -> None:
    """A rejected run: nothing published, staged files removed."""
    store.delete_prefix(staging_uri)


def discard_leftovers_of_killed_runs(lake: Lake, store: ObjectStore, dataset: str) -> None:
    """Call after `resume_publish`: remove what runs killed before publishing left behind.

    - Staging: every staged run is either published (resumed above) or abandoned.
    - Quarantine of a run killed before its bookmark advanced: the rerun transforms the same raw runs and quarantines
      the same records again. A run that finished (its report exists, even if the gate refused it) or that was killed
      after the bookmark took its raw runs keeps its quarantine: no later run will see those records again.
    """
    store.delete_prefix(f"{lake.zone('staging')}/{dataset}")
    published = published_raw_runs(lake, store, dataset)
    parts: dict[str, list[str]] = {}  # run id -> its committed part files (none if killed mid-write)
    for uri in store.list(f"{lake.zone('quarantine')}/{dataset}"):
        if match := re.search(r"/run_id=([^/]+)/(.*)$", uri):
            committed = re.fullmatch(r"part-[^/]+\.json", match.group(2))
            parts.setdefault(match.group(1), []).extend([uri] if committed else [])
    for run_id, uris in parts.items():
        if store.exists(f"{lake.report_dir(dataset, run_id)}/{SUMMARY_NAME}"):
            continue
        first = next((line for uri in uris if (line := first_line(store, uri))), None)
        if first is None or json.loads(first).get("raw_run_id") not in published:
            store.delete_prefix(lake.quarantine_run(dataset, run_id))


def first_line(store: ObjectStore, uri: str) -> bytes | None:
    """The first non-empty line of an object, reading no further."""
    with closing(store.iter_lines(uri)) as lines:
        return next((line for line in lines if line), None)
