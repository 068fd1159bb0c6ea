"""Structured logs: one JSON object per line (for Glue / CloudWatch and pipes), secrets blanked out."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from batchlake_ingest.secret_refs import redact


class JsonLogFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", ...fields}`; `extra={"fields": {...}}` adds fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
        return redact(orjson.dumps(line, default=str).decode())


class TextLogFormatter(logging.Formatter):
    """`LEVEL message key=value ...` for terminals, secrets blanked."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None) or {}
        text = " ".join([super().format(record), *(f"{k}={v}" for k, v in fields.items())])
        return redact(text)


def configure_logging(json_lines: bool, level: int = logging.INFO, stream: Any = None) -> logging.Handler:
    """Send `batchlake_ingest` logs to `stream` (stderr) as JSON lines or plain text, secrets always blanked."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLogFormatter() if json_lines else TextLogFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("batchlake_ingest")
    for old in [h for h in logger.handlers if getattr(h, "_batchlake_ingest", False)]:
        logger.removeHandler(old)
    handler._batchlake_ingest = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return handler
