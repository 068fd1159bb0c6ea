"""Where everything lives in the lake: one place that names every zone and path.

Locally every zone is a folder under one lake root (default `./.lake`); on AWS each zone maps
to a bucket (and the same prefix) that Terraform creates. The layout below is identical in both:

    raw/<dataset>/ingest_date=YYYY-MM-DD/run_id=<id>/part-NNNNN.jsonl.gz + _manifest.json (written last)
    processed/<dataset>/<partition>=<value>/<run_id>/part-*.parquet + _lineage.json
                                                   (a version, the catalog names the current one;
                                                   processed/<dataset>/<run_id>/ when unpartitioned)
    staging/<dataset>/run_id=<id>/...              (transform output before the quality gate)
    quarantine/<dataset>/run_id=<id>/part-*.json   (rejected records, each with its reason)
    reports/<dataset>/<run_id>/summary.json + report.html
    athena-results/<query_id>.csv + <query_id>.csv.metadata.json
    artifacts/<package>/<version>/*.whl
    state/<dataset>/...                            (ingest cursor, transform bookmark, run history)
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ZONES = ("raw", "processed", "staging", "quarantine", "reports", "athena-results", "artifacts", "state")
MANIFEST_NAME = "_manifest.json"


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, unique: 20261124T031200Z-a1b2c3."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Lake:
    """Roots of each zone, as URIs without trailing slash: `/abs/path/.lake/raw` or `s3://bucket/raw`."""

    zone_roots: dict[str, str] = field(default_factory=dict)

    @classmethod
    def local(cls, root: str | Path) -> Lake:
        root = Path(root).resolve()
        return cls({z: str(root / z) for z in ZONES})

    @classmethod
    def s3(cls, buckets: dict[str, str]) -> Lake:
        """`buckets` maps zone -> bucket name; each zone keeps its own prefix inside its bucket."""
        missing = [z for z in ZONES if z not in buckets]
        if missing:
            raise ValueError(f"no bucket given for zones: {', '.join(missing)}")
        return cls({z: f"s3://{buckets[z]}/{z}" for z in ZONES})

    @property
    def is_local(self) -> bool:
        return not self.zone_roots["raw"].startswith("s3://")

    def zone(self, name: str) -> str:
        return self.zone_roots[name]

    # raw
    def raw_dataset(self, dataset: str) -> str:
        return f"{self.zone('raw')}/{dataset}"

    def raw_run(self, dataset: str, ingest_date: str, run_id: str) -> str:
        return f"{self.raw_dataset(dataset)}/ingest_date={ingest_date}/run_id={run_id}"

    # processed / staging / quarantine
    def processed_dataset(self, dataset: str) -> str:
        return f"{self.zone('processed')}/{dataset}"

    def staging_run(self, dataset: str, run_id: str) -> str:
        return f"{self.zone('staging')}/{dataset}/run_id={run_id}"

    def quarantine_run(self, dataset: str, run_id: str) -> str:
        return f"{self.zone('quarantine')}/{dataset}/run_id={run_id}"

    # reports / results / state
    def report_dir(self, dataset: str, run_id: str) -> str:
        return f"{self.zone('reports')}/{dataset}/{run_id}"

    def athena_results(self) -> str:
        return self.zone("athena-results")

    def state_dir(self, dataset: str) -> str:
        return f"{self.zone('state')}/{dataset}"


def raw_table_name(dataset: str) -> str:
    """Catalog table the crawler builds over the raw zone."""
    return f"raw_{dataset}"


def processed_table_name(dataset: str) -> str:
    """Catalog table analysts query."""
    return dataset


def rebased(value: Any, old_root: str, new_root: str) -> Any:
    """`value` (JSON data) with every local path under `old_root` (a folder, no trailing slash) moved under
    `new_root`: a lake folder that moved (docs/decisions/0310-local-lake-follows-its-folder.md)."""
    if isinstance(value, dict):
        return {k: rebased(v, old_root, new_root) for k, v in value.items()}
    if isinstance(value, list):
        return [rebased(v, old_root, new_root) for v in value]
    if isinstance(value, str):
        for prefix in ("", "file://"):
            if value == prefix + old_root or value.startswith(prefix + old_root + "/"):
                return prefix + new_root + value[len(prefix + old_root) :]
    return value
