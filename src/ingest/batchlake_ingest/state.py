"""Ingest state under `state/<dataset>/` and the commit protocol that makes a run exactly once across crashes.

The raw manifest is the commit point: a run counts if and only if its `_manifest.json` exists. The cursor file is
derived from the last committed manifest, never ahead of it:

1. `ingest_running.json` names the run folder being written (so a crashed run's leftovers can be removed).
2. parts are written; `ingest_commit_pending.json` records the manifest URI and the cursor state it implies.
3. `_manifest.json` is written (the commit).
4. `ingest_cursor.json` is written from the pending record; then the pending and running records are deleted.

A kill anywhere is repaired by `recover()` at the start of the next run: a pending record whose manifest exists is
rolled forward (the cursor moves, nothing is fetched twice); one whose manifest does not exist is dropped, and the
unfinished run folder (never visible: no manifest) is deleted (nothing is lost: the cursor did not move).
One ingest per dataset runs at a time (the Glue job allows one concurrent run; the local runner is sequential).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from batchlake_core.layout import MANIFEST_NAME
from batchlake_core.storage import ObjectStore

from batchlake_ingest import faults
from batchlake_ingest.incremental import CursorState

log = logging.getLogger(__name__)

CURSOR_FILE = "ingest_cursor.json"
PENDING_FILE = "ingest_commit_pending.json"
RUNNING_FILE = "ingest_running.json"


class IngestState:
    def __init__(self, store: ObjectStore, state_dir_uri: str) -> None:
        self.store = store
        self.dir = state_dir_uri.rstrip("/")
        self.cursor_uri = f"{self.dir}/{CURSOR_FILE}"
        self.pending_uri = f"{self.dir}/{PENDING_FILE}"
        self.running_uri = f"{self.dir}/{RUNNING_FILE}"

    def _read(self, uri: str) -> dict[str, Any] | None:
        if not self.store.exists(uri):
            return None
        return orjson.loads(self.store.get_bytes(uri))

    def _write(self, uri: str, data: dict[str, Any]) -> None:
        self.store.put_bytes(uri, orjson.dumps(data, option=orjson.OPT_INDENT_2), "application/json")

    def recover(self) -> list[str]:
        """Finish or undo whatever a killed run left; what was done, for the log."""
        done = []
        pending = self._read(self.pending_uri)
        if pending is not None:
            if self.store.exists(pending["manifest"]):
                self._write(self.cursor_uri, pending["cursor_file"])
                done.append(f"rolled forward the cursor of committed run {pending['run_id']}")
            else:
                done.append(f"dropped the uncommitted cursor of run {pending['run_id']}")
            self.store.delete(self.pending_uri)
        running = self._read(self.running_uri)
        if running is not None:
            if not self.store.exists(f"{running['run_uri']}/{MANIFEST_NAME}"):
                self.store.delete_prefix(running["run_uri"])
                done.append(f"removed the unfinished run folder of run {running['run_id']}")
            self.store.delete(self.running_uri)
        for line in done:
            log.warning("recovered", extra={"fields": {"action": line}})
        return done

    def load_cursor(self) -> CursorState | None:
        data = self._read(self.cursor_uri)
        return CursorState.from_json(data["cursor"]) if data and data.get("cursor") else None

    def begin_run(self, run_id: str, run_uri: str) -> None:
        self._write(self.running_uri, {"run_id": run_id, "run_uri": run_uri})

    def commit(self, run_id: str, manifest_uri: str, manifest: dict[str, Any], cursor: CursorState | None) -> None:
        """Write the manifest (the commit) and then the cursor, in the crash-safe order described above."""
        cursor_file = {"run_id": run_id, "manifest": manifest_uri, "cursor": cursor.to_json() if cursor else None}
        self._write(self.pending_uri, {"run_id": run_id, "manifest": manifest_uri, "cursor_file": cursor_file})
        faults.point("before_manifest")
        self.store.put_bytes(manifest_uri, orjson.dumps(manifest, option=orjson.OPT_INDENT_2), "application/json")
        faults.point("after_manifest")
        self._write(self.cursor_uri, cursor_file)
        faults.point("after_cursor")
        self.store.delete(self.pending_uri)
        self.store.delete(self.running_uri)
