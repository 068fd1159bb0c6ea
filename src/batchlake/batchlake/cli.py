"""The `batchlake` command. Each concern registers its commands from `batchlake.commands.<name>`."""

from __future__ import annotations

import importlib
import sys

import typer
from batchlake_core.contract import ContractError

from batchlake.errors import UserError

app = typer.Typer(
    help="batchlake: batch data pipelines on AWS that also run on a laptop with no AWS account.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = ("run", "ingest", "demo_api", "query", "terraform", "class_archive")
for _name in COMMAND_MODULES:
    importlib.import_module(f"batchlake.commands.{_name}").register(app)


def main() -> None:
    try:
        app()
    except (UserError, ContractError) as e:
        print(f"batchlake: error: {e}", file=sys.stderr)
        sys.exit(getattr(e, "exit_code", 2))
    except OSError as e:  # disk full, permissions, a vanished file: the OS's own words, one line
        where = f"{e.filename}: " if e.filename else ""
        print(
            f"batchlake: error: {where}{e.strerror or e}; fix it (free space, permissions) and rerun", file=sys.stderr
        )
        sys.exit(2)
    except KeyboardInterrupt:
        print("batchlake: interrupted", file=sys.stderr)
        sys.exit(130)
