"""`python -m batchlake.demo_api [options]`: the same command as `batchlake demo-api`."""

import sys

import typer

from batchlake.commands.demo_api import register
from batchlake.errors import UserError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
register(app)

if __name__ == "__main__":
    try:
        app(prog_name="python -m batchlake.demo_api")
    except UserError as e:
        print(f"batchlake: error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
