"""Offline static checks: terraform fmt, terraform validate of every module, example and the root."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import hcl2
import pytest

from .conftest import MODULES, REPO, copy_tree, make_root_dir, run_terraform

pytestmark = pytest.mark.terraform

# Resource types of the modules that the offline provider (hashicorp/aws 3.39.0) does not know. They exist
# in hashicorp/aws >= 4 (the S3 bucket sub-resources split out of aws_s3_bucket, and aws_s3_object). validate
# checks everything else in those configurations; these blocks are checked by checkov and reviewed by hand.
NOT_IN_OFFLINE_PROVIDER = {
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_logging",
    "aws_s3_object",
}
# Arguments, blocks and values of resources 3.39 knows that were added after 3.39 (provider >= 5 accepts them):
# (text of the diagnostic, what it is).
NEWER_THAN_OFFLINE_PROVIDER = {
    'An argument named "start_on_creation"': "aws_glue_trigger.start_on_creation (provider 3.40+)",
    'Blocks of type "engine_version"': "aws_athena_workgroup.configuration.engine_version (provider 3.x later)",
    "got BucketOwnerEnforced": "aws_s3_bucket_ownership_controls value BucketOwnerEnforced (provider 3.69+)",
}

CONFIGURATIONS = [f"modules/{m}" for m in MODULES] + [f"modules/{m}/examples/basic" for m in MODULES] + ["terraform"]


def test_fmt_check_recursive(terraform_env: dict[str, str]) -> None:
    for folder in ("modules", "terraform"):
        proc = run_terraform(terraform_env, REPO, "fmt", "-check", "-recursive", "-diff", folder, check=False)
        assert proc.returncode == 0, f"terraform fmt would change {folder}/ (run `make tf-fmt`):\n{proc.stdout}"


def _validate(config: str, tmp_path: Path, env: dict[str, str]) -> list[dict]:
    config_dir = copy_tree(tmp_path) / config
    make_root_dir(config_dir, local_backend=True)
    run_terraform(env, config_dir, "init", "-backend=false", "-input=false", "-no-color")
    proc = run_terraform(env, config_dir, "validate", "-json", "-no-color", check=False)
    return json.loads(proc.stdout)["diagnostics"]


@pytest.fixture(scope="module")
def diagnostics(tmp_path_factory: pytest.TempPathFactory, terraform_env: dict[str, str]) -> dict[str, list[dict]]:
    """`terraform validate -json` diagnostics of every configuration, run concurrently (each in its own copy)."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {
            config: pool.submit(_validate, config, tmp_path_factory.mktemp("validate"), terraform_env)
            for config in CONFIGURATIONS
        }
        return {config: future.result() for config, future in futures.items()}


@pytest.mark.parametrize("config", CONFIGURATIONS)
def test_validate(config: str, diagnostics: dict[str, list[dict]]) -> None:
    problems = []
    for d in diagnostics[config]:
        if d["severity"] != "error":
            continue
        if d["summary"] == "Invalid resource type":
            resource_type = d["detail"].split('resource type "')[1].split('"')[0]
            if resource_type in NOT_IN_OFFLINE_PROVIDER:
                continue
        text = f"{d['summary']}: {d.get('detail', '')}"
        if any(known in text for known in NEWER_THAN_OFFLINE_PROVIDER):
            continue
        where = d.get("range", {})
        problems.append(f"{where.get('filename')}:{where.get('start', {}).get('line')}: {text}")
    assert not problems, "\n".join(problems)


def test_offline_gaps_listed_are_all_real(diagnostics: dict[str, list[dict]]) -> None:
    """The lists of what the offline provider cannot check are not stale: each type is used by a module, each
    newer argument is reported by validate. (validate skips a resource that depends on an invalid one, so
    aws_s3_bucket_lifecycle_configuration, which depends on the versioning, is used but not reported.)"""
    texts = [f"{d['summary']}: {d.get('detail', '')}" for ds in diagnostics.values() for d in ds]
    sources = "\n".join(p.read_text() for p in (REPO / "modules").glob("*/main.tf"))
    for resource_type in NOT_IN_OFFLINE_PROVIDER:
        assert f'resource "{resource_type}"' in sources, f"{resource_type} is no longer used: drop it from the list"
    for known in NEWER_THAN_OFFLINE_PROVIDER:
        assert any(known in t for t in texts), known


def _hcl(path: Path) -> dict:
    with path.open() as f:
        return hcl2.load(f)


@pytest.mark.parametrize("module", MODULES)
def test_module_layout_and_documented_interface(module: str) -> None:
    folder = REPO / "modules" / module
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md", "examples/basic/main.tf"):
        assert (folder / name).is_file(), f"modules/{module}/{name} is missing"
    readme = (folder / "README.md").read_text()
    for block in _hcl(folder / "variables.tf").get("variable", []):
        for quoted, spec in block.items():
            name = quoted.strip('"')
            assert spec.get("description"), f"variable {name} has no description"
            assert spec.get("type"), f"variable {name} has no type"
            assert f"| `{name}` |" in readme, f"README of {module} does not list input {name}"
    for block in _hcl(folder / "outputs.tf").get("output", []):
        for quoted, spec in block.items():
            name = quoted.strip('"')
            assert spec.get("description"), f"output {name} has no description"
            assert f"| `{name}` |" in readme, f"README of {module} does not list output {name}"
    versions = (folder / "versions.tf").read_text()
    assert 'version = ">= 5.0"' in versions  # modules pin a minimum; the root pins ~>


def test_only_the_root_reads_the_workspace() -> None:
    readers = sorted(
        str(p.relative_to(REPO)) for p in REPO.glob("modules/**/*.tf") if "terraform.workspace" in p.read_text()
    )
    assert readers == []
    assert "terraform.workspace" in (REPO / "terraform" / "main.tf").read_text()


def test_one_values_file_per_workspace() -> None:
    files = sorted(p.name for p in (REPO / "terraform" / "workspaces").glob("*.tfvars"))
    assert files == ["dev.tfvars", "prod.tfvars", "staging.tfvars"]
    for name in files:
        assert _hcl(REPO / "terraform" / "workspaces" / name)["environment"].strip('"') == name.removesuffix(".tfvars")
