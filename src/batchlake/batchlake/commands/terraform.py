"""`batchlake` commands: terraform."""

import typer


def register(app: typer.Typer) -> None:
    """Filled in by the terraform work."""
