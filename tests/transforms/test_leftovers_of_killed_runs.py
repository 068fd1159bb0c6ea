"""Staging and quarantine left by killed runs: quarantine is dropped only when the rerun quarantines it again."""

from __future__ import annotations

import json

from batchlake_core.layout import Lake
from batchlake_core.storage import LocalObjectStore
from batchlake_transforms.bookmarks import advance_bookmark
from batchlake_transforms.publish import discard_leftovers_of_killed_runs


def quarantine(lake, run_id: str, raw_run_id: str, *, committed: bool = True) -> None:
    folder = lake / "quarantine" / "orders" / f"run_id={run_id}"
    if not committed:
        folder = folder / "_temporary" / "0" / "task_0"
    folder.mkdir(parents=True)
    record = {"reason": "failed filter: total_amount >= 0", "raw_run_id": raw_run_id, "record": "{}"}
    (folder / "part-00000-abc-c000.json").write_text(json.dumps(record) + "\n")


def test_only_quarantine_of_runs_killed_before_publishing_is_dropped(tmp_path):
    lake, store = tmp_path, LocalObjectStore()
    advance_bookmark(Lake.local(lake), store, "orders", ["raw-published"])
    quarantine(lake, "finished", "raw-pending")  # a finished run (even one the gate refused) keeps its quarantine
    report = lake / "reports" / "orders" / "finished" / "summary.json"
    report.parent.mkdir(parents=True)
    report.write_text("{}")
    (lake / "staging" / "orders" / "run_id=killed-before-publish" / "order_date=2025-06-01").mkdir(parents=True)
    quarantine(lake, "killed-before-publish", "raw-pending")  # its raw run is transformed again by the rerun
    quarantine(lake, "killed-after-bookmark", "raw-published")  # published: the rerun will not see these records
    quarantine(lake, "killed-mid-write", "raw-pending", committed=False)

    discard_leftovers_of_killed_runs(Lake.local(lake), store, "orders")

    left = sorted(p.name for p in (lake / "quarantine" / "orders").iterdir())
    assert left == ["run_id=finished", "run_id=killed-after-bookmark"]
    assert not (lake / "staging" / "orders").exists()
