"""`batchlake package` / `make package`: versioned wheels and Glue entry scripts in dist/, with a manifest.

dist/manifest.json lists every artifact with name, version, kind (wheel | script), file (relative to dist/) and
sha256. Terraform reads it and uploads each file to artifacts/<package>/<version>/<sha256 prefix>/<file>, so a
Glue job always points at exact bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from batchlake.errors import UserError

# Distributions shipped to AWS: (distribution, source folder, Glue entry script or None).
SHIPPED = (
    ("batchlake-core", "src/core", None),
    ("batchlake-ingest", "src/ingest", "src/ingest/batchlake_ingest/glue_entry.py"),
    ("batchlake-transforms", "src/transforms", "src/transforms/batchlake_transforms/glue_entry.py"),
)
MANIFEST_NAME = "manifest.json"
REPRODUCIBLE_EPOCH = "315532800"  # 1980-01-01, the earliest date a zip entry holds


@dataclass(frozen=True)
class Artifact:
    name: str
    version: str
    kind: str  # wheel | script
    file: str  # relative to dist/
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def project_version(package_dir: Path) -> tuple[str, str]:
    meta = tomllib.loads((package_dir / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return meta["name"], meta["version"]


def build_wheel(package_dir: Path, dist_dir: Path) -> Path:
    """`python -m build --wheel` (isolated build environment, as in CI); returns the wheel path."""
    name, version = project_version(package_dir)
    cmd = [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist_dir), str(package_dir)]
    # The same sources give the same bytes (and so the same S3 key: Terraform plans no change): the zip entries' dates
    # come from SOURCE_DATE_EPOCH instead of the build time.
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", REPRODUCIBLE_EPOCH)}
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"building the {name} wheel failed: {last} (run `{' '.join(cmd)}` to see why)")
    wheel_prefix = f"{name.replace('-', '_')}-{version}-"
    wheels = sorted(dist_dir.glob(f"{wheel_prefix}*.whl"))
    if not wheels:
        raise UserError(f"building {name} produced no {wheel_prefix}*.whl in {dist_dir}")
    return wheels[-1]


def build_artifacts(repo_root: str | Path = ".", dist_dir: str | Path = "dist") -> list[Artifact]:
    """Build the shipped wheels, copy the job scripts, write dist/manifest.json; returns the manifest entries."""
    repo_root, dist_dir = Path(repo_root), Path(dist_dir)
    missing = [script for _, _, script in SHIPPED if script and not (repo_root / script).is_file()]
    if missing:
        raise UserError(f"Glue entry script {missing[0]} is missing: it ships with its package, add it and retry")
    dist_dir.mkdir(parents=True, exist_ok=True)
    artifacts: list[Artifact] = []
    for name, folder, script in SHIPPED:
        package_dir = repo_root / folder
        _, version = project_version(package_dir)
        for old in dist_dir.glob(f"{name.replace('-', '_')}-{version}-*.whl"):
            old.unlink()  # a rebuild of the same version replaces the wheel (its sha256 changes the S3 key)
        wheel = build_wheel(package_dir, dist_dir)
        artifacts.append(Artifact(name, version, "wheel", wheel.name, sha256_of(wheel)))
        if script:
            target = dist_dir / "scripts" / name / Path(script).name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(repo_root / script, target)
            artifacts.append(
                Artifact(name, version, "script", target.relative_to(dist_dir).as_posix(), sha256_of(target))
            )
    manifest = {"artifacts": [asdict(a) for a in artifacts]}
    (dist_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return artifacts
