"""`batchlake ingest DATASET` as a user runs it, and the shipped contracts against the demo API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import typer
import yaml
from batchlake_core.contract import load_contract, parse_contract
from batchlake_core.layout import Lake
from batchlake_ingest.pipeline import ingest_dataset
from typer.testing import CliRunner

from .conftest import make_contract, read_raw
from .fake_api import FakeApi

REPO = Path(__file__).resolve().parents[2]
CLI = [str(Path(sys.executable).parent / "batchlake")]  # the console script, as a user runs it


def write_contract(folder: Path, url: str) -> None:
    folder.mkdir()
    contract = make_contract(url, incremental={"cursor_field": "updated_at", "request_param": "updated_since"})
    (folder / "items.yaml").write_text(
        yaml.safe_dump(contract.model_dump(mode="json", by_alias=True, exclude_none=True))
    )


def test_cli_ingests_prints_a_summary_and_logs_json_lines(api: FakeApi, tmp_path: Path) -> None:
    write_contract(tmp_path / "pipelines", api.url)
    env = {**os.environ, "BATCHLAKE_LAKE": str(tmp_path / "lake")}
    done = subprocess.run([*CLI, "ingest", "items"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ingested 95 items records in 1 files (10 pages, ")
    logs = [orjson.loads(line) for line in done.stderr.splitlines()]  # not a terminal: one JSON object per line
    assert [entry["message"] for entry in logs] == ["ingest started", "ingest committed"]
    assert logs[1]["records"] == 95
    assert read_raw(Lake.local(tmp_path / "lake")) == api.records

    again = [*CLI, "ingest", "items", "--lake", str(tmp_path / "lake"), "--json", "--run-id", "r2"]
    done = subprocess.run(again, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    result = orjson.loads(done.stdout)
    assert (result["run_id"], result["records"], result["duplicates_dropped"]) == ("r2", 0, 1)


def test_cli_unreachable_api_is_one_line_exit_2(tmp_path: Path) -> None:
    write_contract(tmp_path / "pipelines", "http://127.0.0.1:9")
    path = tmp_path / "pipelines" / "items.yaml"
    path.write_text(path.read_text().replace("max_attempts: 5", "max_attempts: 1"))
    env = {**os.environ, "BATCHLAKE_LAKE": str(tmp_path / "lake")}
    done = subprocess.run([*CLI, "ingest", "items"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("batchlake: error: page 1 (http://127.0.0.1:9/items?"), done.stderr
    assert last.endswith(
        "gave up after 1 attempts (connection refused): check the API is up, or raise source.retry.max_attempts"
    )
    assert "Traceback" not in done.stderr


def test_cli_unknown_dataset_names_the_known_ones(api: FakeApi, tmp_path: Path, monkeypatch) -> None:
    from batchlake.commands.ingest import register
    from batchlake.errors import UserError

    app = typer.Typer()
    app.callback()(lambda: None)  # a group, so the command keeps its name
    register(app)
    write_contract(tmp_path / "pipelines", api.url)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["ingest", "nope"])
    assert isinstance(result.exception, UserError)
    assert str(result.exception) == "no contract pipelines/nope.yaml for dataset 'nope': known datasets: items"


demo_api = pytest.importorskip("batchlake.demo_api.server", reason="the demo API is not in this checkout yet")


@pytest.mark.slow
def test_shipped_contracts_ingest_the_demo_api_completely_and_incrementally(tmp_path: Path, monkeypatch) -> None:
    lake = Lake.local(tmp_path / "lake")
    with demo_api.DemoApiServer(orders=5_000, customers=1_200) as api:
        monkeypatch.setenv("SHOP_API_URL", api.url)
        for dataset, total in (("orders", 5_000), ("customers", 1_200)):
            contract = load_contract(REPO / "pipelines" / f"{dataset}.yaml")
            first = ingest_dataset(contract, lake, "r1", progress=False)
            records = read_raw(lake, dataset)
            key = contract.source.primary_key[0]
            assert first.records == total == len({r[key] for r in records})
            second = ingest_dataset(contract, lake, "r2", progress=False)
            assert second.records == 0 and second.cursor_after == first.cursor_after


@pytest.mark.slow
@pytest.mark.parametrize(
    ("params", "paginator"),
    [
        ({"limit": 500, "paginate": "cursor"}, {"type": "cursor", "cursor_path": "meta.next_cursor"}),
        ({"per_page": 500}, {"type": "next_url", "next_url_path": "links.next"}),
        ({"per_page": 500}, {"type": "link_header"}),
    ],
)
def test_demo_api_token_paginators_with_5xx_bursts(tmp_path: Path, params: dict, paginator: dict) -> None:
    """The sequential styles against the demo API while it answers every third request with a 5xx burst."""
    data = yaml.safe_load((REPO / "pipelines" / "orders.yaml").read_text())
    with demo_api.DemoApiServer(orders=3_000, customers=100, error_rate=0.3, error_burst=2, fault_seed=7) as api:
        data["source"].update(
            base_url=api.url,
            params=params,
            paginator=paginator,
            retry={"max_attempts": 8, "backoff_initial_seconds": 0.01, "backoff_max_seconds": 0.05},
        )
        contract = parse_contract(data, "orders.yaml")
        lake = Lake.local(tmp_path / "lake")
        result = ingest_dataset(contract, lake, "r1", progress=False)
    ids = [r["order_id"] for r in read_raw(lake, "orders")]
    assert len(ids) == len(set(ids)) == 3_000
    assert result.pages == 6 and result.retries > 0
