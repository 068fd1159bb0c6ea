"""Incremental loading: the request parameter from the saved cursor (minus the lookback window), the new cursor
(the largest cursor value seen), and removal of records already loaded at the window's edge, by primary key.

A record is "already loaded" when its primary key *and* cursor value were seen by the previous run inside the
window `[cursor - lookback, cursor]`: the API sends those again (`updated_since` is usually inclusive, and the
lookback re-reads on purpose). A record updated since then has a new cursor value and is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from batchlake_core.contract import IncrementalSpec

from batchlake_ingest.errors import IngestError

CursorKey = datetime | float | str


def cursor_sort_key(value: Any) -> CursorKey:
    """Order of cursor values: ISO-8601 timestamps by instant (naive = UTC), numbers by value, else as text.

    Timestamps stay `datetime` objects (comparing them is cheap; `.timestamp()` would triple the cost per record).
    """
    if type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise TypeError("a boolean is not a cursor value")
    if isinstance(value, int | float):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not a cursor value")


def minus_seconds(value: str, seconds: int) -> str:
    """`value` moved back by `seconds`, in a form the API accepts (ISO-8601 UTC, or a number)."""
    if not seconds:
        return value
    key = cursor_sort_key(value)
    if isinstance(key, datetime):
        return (key - timedelta(seconds=seconds)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(key, str):
        raise IngestError(f"lookback_seconds needs a timestamp or numeric cursor, got {value!r}: set it to 0")
    moved = key - seconds
    return str(int(moved)) if moved.is_integer() else str(moved)


@dataclass
class CursorState:
    """What the next run needs: the cursor value and the keys loaded inside the lookback window at its edge."""

    field: str
    value: str
    boundary_keys: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "boundary_keys": self.boundary_keys}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CursorState:
        return cls(data["field"], data["value"], list(data.get("boundary_keys") or []))


class CursorTracker:
    """Filters pages against the previous state and computes the next state. Not thread-safe: call from one thread."""

    def __init__(self, spec: IncrementalSpec, primary_key: list[str], previous: CursorState | None) -> None:
        self.spec, self.primary_key = spec, list(primary_key)
        if previous is not None and previous.field != spec.cursor_field:
            previous = None  # the contract changed its cursor field: start again from initial_value
        self.previous = previous
        self.previous_value = previous.value if previous else None
        self.lookback = spec.lookback_seconds
        self._seen = frozenset(previous.boundary_keys) if previous else frozenset()
        self._seen_until = cursor_sort_key(previous.value) if previous and self._seen else None
        # The cursor never moves back: the previous value is the floor of this run's maximum.
        self.max_key: CursorKey | None = cursor_sort_key(previous.value) if previous else None
        self.max_value: str | None = previous.value if previous else None
        self._window: dict[str, CursorKey] = {}
        self._pruned_size = 0
        self.dropped = 0
        for key in self._seen:  # keys from the last run stay in the window while it covers them
            self._remember(key, cursor_sort_key(orjson.loads(key)[-1]))

    def request_value(self) -> str:
        """Value of the request parameter: the saved cursor minus the lookback, or the contract's initial value."""
        if self.previous_value is None:
            return self.spec.initial_value
        return minus_seconds(self.previous_value, self.lookback)

    def _record_key(self, record: dict[str, Any], value: Any) -> str:
        return orjson.dumps([*(record.get(k) for k in self.primary_key), value]).decode()

    def filter_page(self, records: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
        """The page without records already loaded; updates the running cursor."""
        field_name = self.spec.cursor_field
        try:
            values = [r[field_name] for r in records]
            keys = list(map(cursor_sort_key, values))
        except (KeyError, TypeError):
            bad = next(r for r in records if not _has_cursor(r, field_name))
            pk = {k: bad.get(k) for k in self.primary_key}
            raise IngestError(
                f"{where}: record {orjson.dumps(pk).decode()} has no usable cursor field '{field_name}': "
                "fix source.incremental.cursor_field"
            ) from None
        if not records:
            return records
        kept = records
        if self._seen:
            kept = []
            for record, value, key in zip(records, values, keys, strict=True):
                if key <= self._seen_until and self._record_key(record, value) in self._seen:
                    self.dropped += 1
                else:
                    kept.append(record)
        try:
            page_max_index = max(range(len(keys)), key=keys.__getitem__)
        except TypeError:
            raise IngestError(f"{where}: cursor field '{field_name}' mixes value types: fix the cursor field") from None
        page_max = keys[page_max_index]
        if self.max_key is None or page_max > self.max_key:
            self.max_key, self.max_value = page_max, str(values[page_max_index])
        edge = self._edge()
        for record, value, key in zip(records, values, keys, strict=True):
            if key >= edge:
                self._remember(self._record_key(record, value), key)
        return kept

    def _edge(self) -> CursorKey:
        if isinstance(self.max_key, datetime):
            return self.max_key - timedelta(seconds=self.lookback)
        if isinstance(self.max_key, str):
            return self.max_key  # text cursors have no lookback (minus_seconds refuses), only the exact edge
        return self.max_key - self.lookback

    def _remember(self, key: str, sort_key: CursorKey) -> None:
        self._window[key] = sort_key
        if len(self._window) > 2 * self._pruned_size + 1024:
            self._prune()

    def _prune(self) -> None:
        if self.max_key is not None:
            edge = self._edge()
            self._window = {k: v for k, v in self._window.items() if v >= edge}
        self._pruned_size = len(self._window)

    def next_state(self) -> CursorState | None:
        """State for the next run (None while no run has seen a record)."""
        if self.max_key is None:
            return None
        self._prune()
        return CursorState(self.spec.cursor_field, self.max_value, sorted(self._window))


def _has_cursor(record: dict[str, Any], field_name: str) -> bool:
    try:
        cursor_sort_key(record[field_name])
    except (KeyError, TypeError):
        return False
    return True
