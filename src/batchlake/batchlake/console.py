"""Rich consoles for the CLI: a terminal gets its own width; logs and CI get wide lines instead of wrapped ones."""

from __future__ import annotations

import sys

from rich.console import Console


def make_console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 160)
