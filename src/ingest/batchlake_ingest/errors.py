"""Errors a user can cause while ingesting. Each message is one line naming the URL or page and the fix.

`IngestError` deliberately does not derive from the CLI's `UserError`: this package must not import the CLI.
The `batchlake ingest` command turns it into a `UserError` (one line, exit 2).
"""

from __future__ import annotations


class IngestError(Exception):
    """Something the user can fix (API unreachable, bad page, missing secret, HTTP 4xx): one line, no secrets."""

    exit_code = 2
