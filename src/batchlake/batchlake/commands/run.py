"""`batchlake` commands: run."""

import typer


def register(app: typer.Typer) -> None:
    """Filled in by the run work."""
