"""Named crash points for the exactly-once tests.

`BATCHLAKE_INGEST_CRASH_AT=<point>[:<n>]` makes the process SIGKILL itself the n-th time (default 1st) it reaches
`<point>`: the closest thing to a power cut a test can cause. Unset (always, outside tests) it costs one dict lookup.
Points: after_first_page, after_part_written, before_manifest, after_manifest, after_cursor.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "BATCHLAKE_INGEST_CRASH_AT"
_hits: dict[str, int] = {}


def point(name: str) -> None:
    spec = os.environ.get(ENV_VAR)
    if not spec:
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
