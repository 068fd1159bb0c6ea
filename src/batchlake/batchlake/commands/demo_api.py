"""`batchlake` commands: demo_api."""

import typer


def register(app: typer.Typer) -> None:
    """Filled in by the demo_api work."""
