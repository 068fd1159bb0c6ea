"""`batchlake` commands: ingest."""

import typer


def register(app: typer.Typer) -> None:
    """Filled in by the ingest work."""
