"""Named crash points, for the fault-injection tests of the whole pipeline.

`BATCHLAKE_CRASH_AT=<point>[:<n>]` makes the process SIGKILL itself the n-th time (default: the 1st) it reaches
`faults.point("<point>")`: the closest thing to a power cut a test can cause (no `finally`, no `atexit`, no flush).
Unset — always, outside tests — a point costs one environment lookup. Points are listed in `POINTS`; the ingest
package has its own (`BATCHLAKE_INGEST_CRASH_AT`, see `batchlake_ingest.faults`).
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "BATCHLAKE_CRASH_AT"

# Where `faults.point` is called, in the order a run reaches them.
POINTS = (
    "before_ingest",  # runner: lock taken, journal recovery done, nothing ingested yet
    "after_ingest",  # runner: raw run committed (manifest + cursor), not crawled
    "after_crawl",  # runner: raw table and partitions registered, nothing transformed
    "before_staging_write",  # job: quarantine written, staged partitions not yet written
    "after_staging_write",  # job: staging complete, not validated
    "before_journal",  # publish: expectations passed, no lineage or journal written yet
    "after_journal",  # publish: journal written, no partition swapped
    "mid_swap",  # publish: after each partition's new version folder is in place (use :n for the n-th partition)
    "after_register",  # publish: catalog switched to the new versions, bookmark not advanced
    "after_bookmark",  # publish: bookmark advanced, old versions, staging and journal not removed
    "after_publish",  # runner: publish done, queries and report not run
)

_hits: dict[str, int] = {}


def point(name: str, env_var: str = ENV_VAR) -> None:
    """SIGKILL this process if `env_var` (default `BATCHLAKE_CRASH_AT`) names this point and this is its n-th hit."""
    spec = os.environ.get(env_var)
    if not spec:
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
