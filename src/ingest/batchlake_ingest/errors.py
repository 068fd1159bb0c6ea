"""Errors a user can cause while ingesting. Each message is one line naming the URL or page and the fix.

`IngestError` is a `batchlake_core.errors.UserError`: the CLI prints it as one line and exits 2.
"""

from __future__ import annotations

from batchlake_core.errors import UserError


class IngestError(UserError):
    """Something the user can fix (API unreachable, bad page, missing secret, HTTP 4xx): one line, no secrets."""
