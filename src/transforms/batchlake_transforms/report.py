"""The run report: `summary.json` (read by tools) and one self-contained HTML page (read by people).

The HTML page has no external resource at all — inline CSS, an inline SVG chart — so it renders offline,
from a laptop's folder or downloaded from S3.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from batchlake_transforms.quality import QualityResult

SUMMARY_NAME = "summary.json"
REPORT_NAME = "report.html"


@dataclass
class RunSummary:
    """What one run did. `summary.json` is this, as JSON; later tools rely on its field names."""

    dataset: str
    run_id: str
    environment: str
    started_at: str
    finished_at: str = ""
    status: str = "running"  # published | rejected | no new data | failed
    published: bool = False
    reason: str = ""
    records_ingested: int = 0
    records_read: int = 0
    records_processed: int = 0
    records_duplicate: int = 0
    records_quarantined: int = 0
    processed_table_rows: int | None = None
    expectations_passed: int = 0
    expectations_failed: int = 0
    expectations: list[dict[str, Any]] = field(default_factory=list)
    partitions_published: list[dict[str, str]] = field(default_factory=list)
    rows_per_partition: dict[str, int] = field(default_factory=dict)
    quarantine_uri: str | None = None
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    raw_runs: list[str] = field(default_factory=list)
    queries: list[dict[str, Any]] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    crawl: dict[str, Any] = field(default_factory=dict)
    # Great Expectations Data Docs of this run's validation, relative to the report folder (`data_docs/index.html`).
    data_docs_index: str | None = None

    @property
    def reconciled(self) -> bool:
        return self.records_read == self.records_processed + self.records_duplicate + self.records_quarantined

    def add_quality(self, quality: QualityResult) -> None:
        self.expectations = [asdict(o) for o in quality.outcomes]
        self.expectations_passed, self.expectations_failed = quality.passed, quality.failed

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "reconciled": self.reconciled}, indent=2, default=str)


def _grid_step(top: int, lines: int = 4) -> int:
    """A round step (1, 2 or 5 x 10^k) so that `lines` steps cover `top`: the y axis grid."""
    need = max(1, -(-top // lines))
    magnitude = 10 ** (len(str(need)) - 1)
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= need)


def _chart(rows_per_partition: dict[str, int], width: int = 1040, height: int = 220) -> dict[str, Any]:
    """An SVG bar chart of rows per partition: bars, a round y axis with grid lines, a few x labels."""
    items = sorted(rows_per_partition.items())
    if not items:
        return {"bars": []}
    step_rows = _grid_step(max(n for _, n in items))
    top = 4 * step_rows
    left, right, plot_top, base = 64, 8, 10, height - 34
    step = (width - left - right) / len(items)
    bars = []
    for i, (label, n) in enumerate(items):
        h = max(1.0, (base - plot_top) * n / top) if n else 0.0
        bars.append(
            {"x": round(left + i * step, 2), "y": round(base - h, 2), "w": round(max(step * 0.82, 0.8), 2)}
            | {"h": round(h, 2), "label": label.split("=", 1)[-1], "partition": label, "rows": n}
        )
    grid = [{"y": round(base - (base - plot_top) * k / 4, 2), "value": step_rows * k} for k in range(5)]
    every = max(1, round(len(items) / 8))
    ticks = [{"x": round(b["x"] + b["w"] / 2, 2), "label": b["label"]} for b in bars[::every]]
    return {
        "bars": bars,
        "grid": grid,
        "ticks": ticks,
        "width": width,
        "height": height,
        "left": left,
        "base": base,
        "total": sum(n for _, n in items),
        "busiest": max(items, key=lambda kv: kv[1]),
    }


def _relative(uri: str | None, report_dir: str) -> str:
    if not uri:
        return ""
    if uri.startswith("s3://") or report_dir.startswith("s3://"):
        return uri
    return os.path.relpath(uri, report_dir)


def render_html(summary: RunSummary, report_dir: str) -> str:
    env = Environment(loader=PackageLoader("batchlake_transforms", "templates"), autoescape=select_autoescape())
    queries = [{**q, "link": _relative(q.get("output_location"), report_dir)} for q in summary.queries]
    data = {**asdict(summary), "reconciled": summary.reconciled, "queries": queries}
    links = {
        "quarantine": _relative(summary.quarantine_uri, report_dir),
        "data_docs": summary.data_docs_index or "",
    }
    return env.get_template("report.html.j2").render(s=data, chart=_chart(summary.rows_per_partition), links=links)
