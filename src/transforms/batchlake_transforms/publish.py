"""Publish: swap the staged partitions into the processed zone and register them, as one recoverable step.

Before anything moves, a journal (`state/<dataset>/publish_journal.json`) records what will be published. The
swap then replaces each touched partition folder, the partitions are registered in the catalog, the transform
bookmark advances, and the journal is removed. If the process dies in between, `resume_publish` finishes the same
publish on the next run (roll forward), so a reader never keeps a half-published run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

from batchlake_core import faults
from batchlake_core.catalog.tables import partition_path
from batchlake_core.layout import Lake
from batchlake_core.storage import ObjectStore

from batchlake_transforms.bookmarks import advance_bookmark, published_raw_runs
from batchlake_transforms.report import SUMMARY_NAME

JOURNAL_NAME = "publish_journal.json"
LINEAGE_NAME = "_lineage.json"  # leading underscore: Athena, Hive and DuckDB globs skip it

RegisterPartitions = Callable[[list[dict[str, str]]], None]


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


def _swap_local_partition(staged: Path, target: Path, replaced: Path) -> None:
    """Replace `target` with `staged`. Safe to repeat after a crash at any point."""
    if not staged.exists():
        return  # already swapped by an earlier, interrupted attempt
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        replaced.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(replaced, ignore_errors=True)
        os.replace(target, replaced)
    os.replace(staged, target)


def _swap_s3_partition(store: ObjectStore, staged: str, target: str) -> None:
    """S3 has no rename: copy the staged objects over, then delete objects of the old version."""
    staged_keys = list(store.list(staged))
    if not staged_keys:
        return
    new_names = set()
    for uri in staged_keys:
        name = uri[len(staged) + 1 :]
        new_names.add(name)
        store.put_bytes(f"{target}/{name}", store.get_bytes(uri))
    for uri in list(store.list(target)):
        if uri[len(target) + 1 :] not in new_names:
            store.delete(uri)
    store.delete_prefix(staged)


def _apply(plan: PublishPlan, lake: Lake, store: ObjectStore, register: RegisterPartitions) -> None:
    for values in plan.partitions:
        rel = partition_path(values)
        staged, target = f"{plan.staging_uri}/{rel}", f"{plan.processed_uri}/{rel}"
        if lake.is_local:
            _swap_local_partition(Path(staged), Path(target), Path(plan.staging_uri, "_replaced", rel))
        else:
            _swap_s3_partition(store, staged, target)
        faults.point("mid_swap")
    register(plan.partitions)
    faults.point("after_register")
    advance_bookmark(lake, store, plan.dataset, plan.raw_runs)
    faults.point("after_bookmark")
    store.delete_prefix(plan.staging_uri)
    store.delete(journal_uri(lake, plan.dataset))


def publish_partitions(plan: PublishPlan, lake: Lake, store: ObjectStore, register: RegisterPartitions) -> None:
    """Write lineage into each staged partition, journal the plan, swap, register, advance the bookmark."""
    faults.point("before_journal")
    for values in plan.partitions:
        lineage = {**plan.lineage, "partition": values}
        store.put_bytes(f"{plan.staging_uri}/{partition_path(values)}/{LINEAGE_NAME}", json.dumps(lineage).encode())
    store.put_bytes(journal_uri(lake, plan.dataset), json.dumps(asdict(plan)).encode(), "application/json")
    faults.point("after_journal")
    _apply(plan, lake, store, register)


def resume_publish(lake: Lake, store: ObjectStore, dataset: str, register: RegisterPartitions) -> PublishPlan | None:
    """Finish a publish that a crash interrupted; returns its plan, or None when there was none."""
    uri = journal_uri(lake, dataset)
    if not store.exists(uri):
        return None
    plan = PublishPlan(**json.loads(store.get_bytes(uri)))
    _apply(plan, lake, store, register)
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
