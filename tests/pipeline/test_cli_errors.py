"""Errors a user can cause: one line naming the problem and the fix, exit code 2, never a traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from batchlake.demo_api.server import DemoApiServer

BATCHLAKE = str(Path(sys.executable).with_name("batchlake"))


def run_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BATCHLAKE, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=120
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("batchlake: error:")]
    assert len(errors) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in errors[0]


@pytest.fixture
def project(tmp_path, repo_root):
    """A project folder with the repo's contracts and SQL."""
    (tmp_path / "pipelines").mkdir()
    for contract in (repo_root / "pipelines").glob("*.yaml"):
        (tmp_path / "pipelines" / contract.name).write_text(contract.read_text())
    (tmp_path / "sql").symlink_to(repo_root / "sql")
    return tmp_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_invalid_pipeline_yaml_names_file_and_field(project):
    path = project / "pipelines" / "orders.yaml"
    path.write_text(path.read_text().replace("type: page_number", "type: page_number\n    bogus: [unclosed"))
    assert_one_line_error(run_cli("run", "orders", cwd=project), "orders.yaml", "invalid YAML")


def test_contract_mistake_names_the_field(project):
    path = project / "pipelines" / "customers.yaml"
    path.write_text(path.read_text().replace("primary_key: [customer_id]", "primary_key: []"))
    assert_one_line_error(run_cli("run", "customers", cwd=project), "customers.yaml", "source.primary_key")


def test_unknown_dataset_lists_the_known_ones(project):
    assert_one_line_error(run_cli("run", "invoices", cwd=project), "unknown dataset invoices", "customers, orders")


def test_unreachable_api(project):
    url = f"http://127.0.0.1:{free_port()}"
    proc = run_cli("run", "customers", "--lake", str(project / "lake"), cwd=project, env={"SHOP_API_URL": url})
    assert_one_line_error(proc, "customers", "127.0.0.1")
    assert not list((project / "lake" / "raw").rglob("_manifest.json"))
    retries = [line for line in proc.stderr.splitlines() if line.startswith("WARNING retrying")]
    assert retries and all("reason=" in line and "attempt=" in line and "wait_s=" in line for line in retries)


def test_lake_root_not_writable(project):
    blocker = project / "a-file"
    blocker.write_text("not a folder")
    proc = run_cli("run", "orders", "--lake", str(blocker / "lake"), cwd=project)
    assert_one_line_error(proc, "lake root", "not writable", "--lake")


def test_java_missing(project):
    env = {"PATH": str(Path(sys.executable).parent), "JAVA_HOME": ""}
    proc = run_cli("run", "orders", "--lake", str(project / "lake"), cwd=project, env=env)
    assert_one_line_error(proc, "Java", "openjdk-17")


def test_java_home_without_java(project):
    proc = run_cli("run", "orders", "--lake", str(project / "lake"), cwd=project, env={"JAVA_HOME": str(project)})
    assert_one_line_error(proc, f"JAVA_HOME={project} has no bin/java", "unset it")


@pytest.mark.spark
def test_a_contract_expression_spark_cannot_use_fails_the_run_with_its_field(project):
    """The contract loads (its expressions are Spark SQL, checked by Spark): the transform names the field in one line,
    the run's report says why, and nothing is published."""
    path = project / "pipelines" / "customers.yaml"
    path.write_text(path.read_text().replace("expression: year(signup_date)", "expression: yeer(signup_date)"))
    lake = project / "lake"
    with DemoApiServer(orders=10, customers=50) as api:
        proc = run_cli("run", "customers", "--lake", str(lake), cwd=project, env={"SHOP_API_URL": api.url})
    assert_one_line_error(proc, "customers", "schema.partition_keys[0].expression", "`yeer`")
    assert "org.apache.spark.sql.catalyst" not in proc.stderr  # no Java stack trace (PySpark 4 logs one as JSON)
    summaries = [json.loads(p.read_text()) for p in (lake / "reports" / "customers").rglob("summary.json")]
    assert [(s["status"], "yeer" in s["reason"]) for s in summaries] == [("failed", True)]
    assert not list((lake / "processed").rglob("*.parquet"))


@pytest.mark.spark
def test_a_failing_dataset_does_not_stop_the_others(project):
    """customers' API is down: orders still runs and publishes; the run ends with customers' one error line, exit 2,
    after the table of both runs."""
    path = project / "pipelines" / "customers.yaml"
    down = f"http://127.0.0.1:{free_port()}"
    text = path.read_text().replace("${SHOP_API_URL:-http://127.0.0.1:8080}", down)
    path.write_text(text.replace("  concurrency: 4\n", "  concurrency: 4\n  retry: {max_attempts: 1}\n"))
    lake = project / "lake"
    with DemoApiServer(orders=200, customers=50) as api:
        proc = run_cli("run", "--lake", str(lake), cwd=project, env={"SHOP_API_URL": api.url})
    assert_one_line_error(proc, "customers:", down)
    table = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in proc.stdout.splitlines() if "│" in line}
    assert table == {"customers": "failed", "orders": "published"}
    summaries = {p.parent.parent.name: json.loads(p.read_text()) for p in (lake / "reports").rglob("summary.json")}
    assert summaries["orders"]["records_processed"] == 200 and summaries["customers"]["status"] == "failed"
