"""`batchlake` commands: query."""

import typer


def register(app: typer.Typer) -> None:
    """Filled in by the query work."""
