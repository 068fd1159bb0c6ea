"""Named crash points for the exactly-once tests.

`BATCHLAKE_INGEST_CRASH_AT=<point>[:<n>]` makes the process SIGKILL itself the n-th time (default 1st) it reaches
`<point>`: the closest thing to a power cut a test can cause. Unset (always, outside tests) it costs one dict lookup.
Points: after_first_page, after_part_written, before_manifest, after_manifest, after_cursor.
"""

from __future__ import annotations

from batchlake_core import faults

ENV_VAR = "BATCHLAKE_INGEST_CRASH_AT"


def point(name: str) -> None:
    faults.point(name, ENV_VAR)
