"""`batchlake plan|apply|output --workspace NAME` (over the terraform CLI) and `batchlake package`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from batchlake.errors import UserError

WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="Terraform workspace: dev, staging or prod.")]
DirOption = Annotated[Path | None, typer.Option("--dir", help="Root Terraform configuration (default: ./terraform).")]
BackendOption = Annotated[
    Path | None,
    typer.Option("--backend-config", help="S3 backend settings file, relative to --dir (default: backend.hcl)."),
]


def register(app: typer.Typer) -> None:
    @app.command()
    def plan(workspace: WorkspaceOption, dir: DirOption = None, backend_config: BackendOption = None) -> None:
        """Plan a workspace: init, select or create the workspace, plan into <workspace>.tfplan."""
        from batchlake.terraform import Terraform, check_artifacts

        tf = Terraform(workspace, dir, backend_config=backend_config)
        check_artifacts(tf)
        tf.init()
        tf.select_workspace(create=True)
        plan_file = tf.plan()
        print(f"Saved the plan to {tf.dir / plan_file}; `batchlake apply --workspace {workspace}` applies it.")

    @app.command()
    def apply(
        workspace: WorkspaceOption,
        dir: DirOption = None,
        backend_config: BackendOption = None,
        auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Apply without asking.")] = False,
    ) -> None:
        """Deploy a workspace: init, select or create the workspace, plan, then apply exactly that plan."""
        from batchlake.terraform import Terraform, check_artifacts

        tf = Terraform(workspace, dir, backend_config=backend_config)
        check_artifacts(tf)
        tf.init()
        tf.select_workspace(create=True)
        plan_file = tf.plan()
        if not auto_approve:
            if not sys.stdin.isatty():
                raise UserError("apply needs confirmation: run it in a terminal or pass --auto-approve")
            if not typer.confirm(f"Apply this plan to workspace {workspace!r}?", default=False):
                raise UserError("not applied (answered no); the plan is kept in " + str(tf.dir / plan_file))
        tf.apply(plan_file)

    @app.command()
    def output(workspace: WorkspaceOption, dir: DirOption = None, backend_config: BackendOption = None) -> None:
        """Print a workspace's outputs (bucket names, database, workgroup, job names) as JSON."""
        from batchlake.terraform import Terraform

        tf = Terraform(workspace, dir, backend_config=backend_config)
        tf.init(quiet=True)
        tf.select_workspace(create=False)
        print(json.dumps(tf.outputs(), indent=2, sort_keys=True))

    @app.command()
    def package(
        dist: Annotated[Path, typer.Option("--dist", help="Output folder.")] = Path("dist"),
        repo: Annotated[Path, typer.Option("--repo", help="Repository root.")] = Path("."),
    ) -> None:
        """Build the shipped wheels and Glue job scripts into dist/ with manifest.json (name, version, sha256)."""
        from batchlake.packaging import MANIFEST_NAME, build_artifacts

        for a in build_artifacts(repo, dist):
            print(f"{a.name:22} {a.version:10} {a.kind:7} {a.sha256[:16]}  {dist / a.file}")
        print(f"Wrote {dist / MANIFEST_NAME}")
