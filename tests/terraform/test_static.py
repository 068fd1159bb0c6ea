"""Offline static checks: terraform fmt, terraform validate of every module, example and the root."""

from __future__ import annotations

import json
from pathlib import Path

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


@pytest.mark.parametrize("config", CONFIGURATIONS)
def test_validate(config: str, tmp_path: Path, terraform_env: dict[str, str]) -> None:
    config_dir = copy_tree(tmp_path) / config
    make_root_dir(config_dir, local_backend=True)
    run_terraform(terraform_env, config_dir, "init", "-backend=false", "-input=false", "-no-color")
    proc = run_terraform(terraform_env, config_dir, "validate", "-json", "-no-color", check=False)
    result = json.loads(proc.stdout)
    problems, blamed = [], set()
    for d in result["diagnostics"]:
        if d["severity"] != "error":
            continue
        if d["summary"] == "Invalid resource type":
            resource_type = d["detail"].split('resource type "')[1].split('"')[0]
            if resource_type in NOT_IN_OFFLINE_PROVIDER:
                blamed.add(resource_type)
                continue
        text = f"{d['summary']}: {d.get('detail', '')}"
        newer = [known for known in NEWER_THAN_OFFLINE_PROVIDER if known in text]
        if newer:
            blamed.update(newer)
            continue
        where = d.get("range", {})
        problems.append(
            f"{where.get('filename')}:{where.get('start', {}).get('line')}: {d['summary']}: {d.get('detail', '')}"
        )
    assert not problems, "\n".join(problems)
