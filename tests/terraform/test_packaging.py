"""`batchlake package`: versioned wheels of batchlake-core, -ingest and -transforms plus the Glue entry scripts in
dist/, listed with name, version and sha256 in dist/manifest.json (what terraform/ uploads)."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from batchlake.errors import UserError
from batchlake.packaging import SHIPPED, build_artifacts

from .conftest import REPO

pytestmark = pytest.mark.slow


def _source_tree(dest: Path) -> Path:
    for _, folder, _ in SHIPPED:
        shutil.copytree(
            REPO / folder, dest / folder, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build")
        )
    return dest


def test_missing_entry_script_is_one_clear_error(tmp_path: Path) -> None:
    tree = _source_tree(tmp_path / "repo")
    (tree / "src/ingest/batchlake_ingest/glue_entry.py").unlink(missing_ok=True)
    with pytest.raises(UserError, match=r"Glue entry script src/ingest/batchlake_ingest/glue_entry\.py is missing"):
        build_artifacts(tree, tmp_path / "dist")


def test_build_artifacts(tmp_path: Path) -> None:
    tree = _source_tree(tmp_path / "repo")
    missing = [s for _, _, s in SHIPPED if s and not (tree / s).is_file()]
    if missing:
        pytest.fail(f"the repo lacks the Glue entry scripts {missing} that `make package` ships")
    dist = tmp_path / "dist"
    artifacts = build_artifacts(tree, dist)

    manifest = json.loads((dist / "manifest.json").read_text())["artifacts"]
    assert {(a["name"], a["kind"]) for a in manifest} == {
        ("batchlake-core", "wheel"),
        ("batchlake-ingest", "wheel"),
        ("batchlake-ingest", "script"),
        ("batchlake-transforms", "wheel"),
        ("batchlake-transforms", "script"),
    }
    assert manifest == [a.__dict__ for a in artifacts]
    for entry in manifest:
        path = dist / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        if entry["kind"] == "wheel":
            assert entry["file"] == f"{entry['name'].replace('-', '_')}-{entry['version']}-py3-none-any.whl"
            package = entry["name"].replace("-", "_")
            names = zipfile.ZipFile(path).namelist()
            assert f"{package}/__init__.py" in names
            assert not any(n.startswith("tests/") for n in names)
        else:
            assert path.read_bytes() == (tree / dict((n, s) for n, _, s in SHIPPED)[entry["name"]]).read_bytes()

    # Built again from the same sources, seconds later: the same bytes, so the same S3 keys and no change in the plan.
    again = build_artifacts(tree, tmp_path / "dist-again")
    assert [a.sha256 for a in again] == [a.sha256 for a in artifacts]
