"""The one place that picks an implementation per concern from the environment's settings.

`local` (the embedded default): every zone a folder under one lake root, a SQLite catalog shaped like Glue,
Spark local[*], DuckDB for SQL. An AWS workspace: buckets, Glue database and Athena workgroup read from
`terraform output -json` of that workspace, never copied by hand.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from batchlake_core.catalog import Catalog, GlueCatalog, LocalCatalog
from batchlake_core.layout import Lake, rebased
from batchlake_core.storage import LocalObjectStore, ObjectStore, S3ObjectStore

from batchlake.errors import UserError

LOCAL = "local"
LOCAL_DATABASE = "batchlake"
DEFAULT_LAKE = ".lake"


@dataclass
class Environment:
    name: str
    lake: Lake
    store: ObjectStore
    catalog: Catalog
    database: str
    lake_root: Path | None = None  # local only
    athena_workgroup: str | None = None  # AWS only

    @property
    def is_local(self) -> bool:
        return self.name == LOCAL


def lake_root_from(option: str | Path | None) -> Path:
    return Path(option or os.environ.get("BATCHLAKE_LAKE") or DEFAULT_LAKE).resolve()


def _check_writable(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".write-check-"):
            pass
    except OSError as e:
        raise UserError(
            f"lake root {root} is not writable ({e.strerror}): choose another with --lake PATH or BATCHLAKE_LAKE"
        ) from None


def local_environment(lake_root: str | Path | None = None) -> Environment:
    root = lake_root_from(lake_root)
    _check_writable(root)
    (root / "catalog").mkdir(exist_ok=True)
    catalog = LocalCatalog(root / "catalog" / "glue_catalog.sqlite")
    catalog.ensure_database(LOCAL_DATABASE)
    follow_moved_lake(root, catalog)
    return Environment(LOCAL, Lake.local(root), LocalObjectStore(), catalog, LOCAL_DATABASE, lake_root=root)


def follow_moved_lake(root: Path, catalog: LocalCatalog) -> None:
    """A local lake keeps working after its folder is moved or copied: the catalog's locations, and the paths that an
    unfinished ingest or publish recorded in the lake's state, follow it to `root` (run history and reports keep the
    paths they were written with). Done under the catalog's write lock, the state files first
    (docs/decisions/0310-local-lake-follows-its-folder.md)."""
    store = LocalObjectStore()

    def move_state(old_root: str) -> None:
        for path in sorted((root / "state").glob("*/*.json")):  # not state/<dataset>/runs/: the run history
            try:
                data = json.loads(path.read_bytes())
            except ValueError as e:
                raise UserError(f"{path} is not JSON ({e}): restore it, or delete it if no run is unfinished") from None
            if (moved := rebased(data, old_root, str(root))) != data:
                store.put_bytes(str(path), json.dumps(moved, indent=1).encode(), "application/json")

    catalog.relocate(str(root), before_move=move_state)


def aws_environment(workspace: str) -> Environment:
    """Settings from `terraform output -json` of the workspace (see terraform/outputs.tf)."""
    from batchlake.terraform import terraform_outputs

    outputs = terraform_outputs(workspace)
    try:
        raw, processed = outputs["raw_bucket_name"], outputs["processed_bucket_name"]
        buckets = {
            "raw": raw,
            "state": raw,
            "processed": processed,
            "staging": processed,
            "quarantine": processed,
            "reports": processed,
            "athena-results": outputs["athena_results_bucket_name"],
            "artifacts": outputs["artifacts_bucket_name"],
        }
        database, workgroup = outputs["glue_database_name"], outputs["athena_workgroup_name"]
    except KeyError as e:
        raise UserError(
            f"terraform output of workspace {workspace!r} has no {e.args[0]}: run `batchlake apply`"
        ) from None
    store = S3ObjectStore(kms_key_id=outputs.get("kms_key_arn"))
    return Environment(workspace, Lake.s3(buckets), store, GlueCatalog(), database, athena_workgroup=workgroup)


def resolve_environment(env: str, lake_root: str | Path | None = None) -> Environment:
    if env == LOCAL:
        return local_environment(lake_root)
    return aws_environment(env)
