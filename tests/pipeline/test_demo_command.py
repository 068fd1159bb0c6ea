"""`batchlake demo` — what `make demo` runs — as a user runs it: a real process, then `batchlake query`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.spark, pytest.mark.slow]

BATCHLAKE = str(Path(sys.executable).with_name("batchlake"))


def test_demo_runs_everything_and_query_prints_json(repo_root, tmp_path):
    lake = tmp_path / "lake"
    demo = subprocess.run(
        [BATCHLAKE, "demo", "--lake", str(lake), "--orders", "1500", "--customers", "300"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "Traceback" not in demo.stderr
    # It says where the report and the query results are, and they are there.
    report_lines = [line for line in demo.stdout.splitlines() if "report.html" in line]
    assert len(report_lines) == 2
    for line in report_lines:
        assert Path(line.split()[-1]).is_file()
    assert "athena-results" in demo.stdout
    summaries = {p.parent.parent.name: json.loads(p.read_text()) for p in lake.glob("reports/*/*/summary.json")}
    assert summaries["orders"]["records_processed"] == 1500 and summaries["orders"]["published"] is True
    assert summaries["customers"]["records_processed"] == 300

    query = subprocess.run(
        [
            BATCHLAKE,
            "query",
            "--env",
            "local",
            "--lake",
            str(lake),
            "--output",
            "json",
            "--sql",
            "SELECT count(DISTINCT order_id) AS orders, count(*) AS rows FROM orders",
        ],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout) == [{"orders": 1500, "rows": 1500}]
