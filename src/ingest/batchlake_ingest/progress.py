"""Run progress: a rich progress bar with records/s on a terminal, JSON log lines every few seconds otherwise."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("batchlake_ingest.progress")
LOG_INTERVAL_SECONDS = 5.0


class LogProgress:
    """Logs `{"records", "pages", "records_per_s"}` at most every `interval_seconds`."""

    def __init__(self, dataset: str, interval_seconds: float | None = None) -> None:
        self.dataset = dataset
        self.interval = LOG_INTERVAL_SECONDS if interval_seconds is None else interval_seconds
        self.started = self.last = time.monotonic()
        self.total_pages: int | None = None

    def set_total_pages(self, total: int) -> None:
        self.total_pages = total

    def update(self, pages: int, records: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            rate = records / max(now - self.started, 1e-9)
            fields = {"dataset": self.dataset, "pages": pages, "pages_total": self.total_pages, "records": records}
            log.info("progress", extra={"fields": {**fields, "records_per_s": round(rate)}})

    def close(self) -> None:
        pass


class RichProgress:
    def __init__(self, dataset: str) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[pages]:,} pages"),
            TextColumn("{task.fields[records]:,} records"),
            TextColumn("{task.fields[rate]:,.0f} records/s"),
            TimeElapsedColumn(),
            transient=False,
        )
        self.task = self.progress.add_task(f"ingest {dataset}", total=None, pages=0, records=0, rate=0.0)
        self.started = time.monotonic()
        self.progress.start()

    def set_total_pages(self, total: int) -> None:
        """Known page count: the bar shows real progress instead of a pulse."""
        self.progress.update(self.task, total=total)

    def update(self, pages: int, records: int) -> None:
        rate = records / max(time.monotonic() - self.started, 1e-9)
        self.progress.update(self.task, completed=pages, pages=pages, records=records, rate=rate)

    def close(self) -> None:
        self.progress.stop()


def make_progress(dataset: str, progress: bool | None, stream: Any = None) -> LogProgress | RichProgress:
    """A bar when asked (`True`) or, by default (`None`), when stderr is a terminal; log lines otherwise."""
    if progress is None:
        import sys

        progress = (stream or sys.stderr).isatty()
    return RichProgress(dataset) if progress else LogProgress(dataset)
