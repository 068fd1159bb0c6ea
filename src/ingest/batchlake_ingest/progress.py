"""Run progress: a rich progress bar with records/s on a terminal, JSON log lines every few seconds otherwise."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("batchlake_ingest.progress")


class LogProgress:
    """Logs `{"records", "pages", "records_per_s"}` at most every `interval_seconds`."""

    def __init__(self, dataset: str, interval_seconds: float = 5.0) -> None:
        self.dataset, self.interval = dataset, interval_seconds
        self.started = self.last = time.monotonic()

    def update(self, pages: int, records: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            rate = records / max(now - self.started, 1e-9)
            fields = {"dataset": self.dataset, "pages": pages, "records": records, "records_per_s": round(rate)}
            log.info("progress", extra={"fields": fields})

    def close(self) -> None:
        pass


class RichProgress:
    def __init__(self, dataset: str) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[pages]} pages"),
            TextColumn("{task.completed:,.0f} records"),
            TextColumn("{task.fields[rate]:,.0f} records/s"),
            TimeElapsedColumn(),
            transient=False,
        )
        self.task = self.progress.add_task(f"ingest {dataset}", total=None, pages=0, rate=0.0)
        self.started = time.monotonic()
        self.progress.start()

    def update(self, pages: int, records: int) -> None:
        rate = records / max(time.monotonic() - self.started, 1e-9)
        self.progress.update(self.task, completed=records, pages=pages, rate=rate)

    def close(self) -> None:
        self.progress.stop()


def make_progress(dataset: str, progress: bool | None, stream: Any = None) -> LogProgress | RichProgress:
    """A bar when asked (`True`) or, by default (`None`), when stderr is a terminal; log lines otherwise."""
    if progress is None:
        import sys

        progress = (stream or sys.stderr).isatty()
    return RichProgress(dataset) if progress else LogProgress(dataset)
