"""A corpus of contract mistakes: each one is refused with one line naming the file, the field and the problem.

Every case starts from the shipped `pipelines/orders.yaml` and breaks one thing, as a person editing it might.
`load_contract` must raise `ContractError` (one line, no traceback); three cases also go through the CLI to check
that the user sees exactly one `batchlake: error:` line and exit code 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from batchlake_core.contract import ContractError, load_contract

BATCHLAKE = str(Path(sys.executable).with_name("batchlake"))
Edit = Callable[[dict], None]


@dataclass
class BadContract:
    name: str
    fragment: str  # must appear in the error line
    edit: Edit | None = None  # on the parsed YAML
    text: Callable[[str], str] | None = None  # or on the YAML text


def _set(path: str, value) -> Edit:
    def edit(doc: dict) -> None:
        *parents, last = path.split(".")
        node = doc
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return edit


def _drop(path: str) -> Edit:
    def edit(doc: dict) -> None:
        *parents, last = path.split(".")
        node = doc
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        del node[last]

    return edit


CASES = [
    # YAML itself
    BadContract("tab indentation", "invalid YAML", text=lambda t: t.replace("  path: /orders", "\tpath: /orders")),
    BadContract("unclosed bracket", "invalid YAML", text=lambda t: t.replace("[order_id]", "[order_id")),
    BadContract("not a mapping", "must be a YAML mapping", text=lambda t: "- just\n- a list\n"),
    BadContract("empty file", "must be a YAML mapping", text=lambda t: ""),
    BadContract("duplicate top-level key", "dataset", text=lambda t: t + "\ndataset: orders2\n"),
    # top level
    BadContract("dataset name mismatch", "file is named 'orders'", _set("dataset", "purchases")),
    BadContract("dataset name with capitals", "dataset", _set("dataset", "Orders")),
    BadContract(
        "unknown top-level key", "field 'scheduel': unknown field; did you mean 'schedule'?", _set("scheduel", "daily")
    ),
    BadContract(
        "misspelt source field",
        "field 'source.record_path': unknown field; did you mean 'records_path'?",
        _set("source.record_path", "data"),
    ),
    BadContract("no source", "source", _drop("source")),
    BadContract("no schema", "schema", _drop("schema")),
    # source
    BadContract("no primary key", "source.primary_key", _set("source.primary_key", [])),
    BadContract("concurrency zero", "source.concurrency", _set("source.concurrency", 0)),
    BadContract("negative rate limit", "source.rate_limit_per_second", _set("source.rate_limit_per_second", -1)),
    BadContract("timeout as text", "source.timeout_seconds", _set("source.timeout_seconds", "soon")),
    BadContract("literal secret in auth", "source.auth", _set("source.auth", {"type": "bearer", "token": "abc123"})),
    BadContract("params as a list", "source.params", _set("source.params", ["per_page", 1000])),
    # schema
    BadContract("unknown column type", "unknown type 'varchar(20)'", _set("schema.columns.2.type", "varchar(20)")),
    BadContract("column name with a dash", "schema.columns.0.name", _set("schema.columns.0.name", "order-id")),
    BadContract("column without type", "schema.columns.1.type", _drop("schema.columns.1.type")),
    BadContract("duplicate column", "duplicate column names: status", _set("schema.columns.3.name", "status")),
    BadContract("nullable as text", "schema.columns.0.nullable", _set("schema.columns.0.nullable", "perhaps")),
    BadContract("partition key type", "schema.partition_keys.0.type", _set("schema.partition_keys.0.type", "float")),
    BadContract("partition key without expression", "expression", _drop("schema.partition_keys.0.expression")),
    BadContract(
        "partition key over the version column",
        "partition key order_date (to_date(updated_at)) uses updated_at",
        _set("schema.partition_keys.0.expression", "to_date(updated_at)"),
    ),
    BadContract("unknown change policy", "schema.change_policy", _set("schema.change_policy", "ignore")),
    BadContract("no columns", "schema.columns", _set("schema.columns", [])),
    # quality
    BadContract("unknown expectation", "quality.0.expect", _set("quality.0", {"expect": "looks_fine"})),
    BadContract("in_set without values", "needs values", _set("quality.4", {"expect": "in_set", "column": "status"})),
    BadContract("between without bounds", "needs min or max", _set("quality.4", {"expect": "between", "column": "x"})),
    BadContract(
        "unknown severity",
        "severity",
        _set("quality.1", {"expect": "not_null", "column": "order_id", "severity": "fatal"}),
    ),
    BadContract("mostly above one", "mostly", _set("quality.1", {"expect": "not_null", "column": "x", "mostly": 2})),
    BadContract(
        "references without dataset",
        "needs dataset",
        _set("quality.7", {"expect": "references", "column": "customer_id"}),
    ),
]

# Mistakes the contract model cannot see on its own (the paginator registry lives in the ingest package): refused by
# `batchlake run` before any request, with one line.
RUN_CASES = [
    BadContract(
        "unknown paginator", "field 'source.paginator': unknown paginator type 'telepathy'",
        _set("source.paginator.type", "telepathy"),
    ),
    BadContract("misspelt paginator option", "field 'source.paginator'", _set("source.paginator.page_parm", "p")),
    BadContract("unknown transform job", "field 'transform.job': unknown job 'cleen'", _set("transform.job", "cleen")),
]  # fmt: skip


def write_case(folder: Path, repo_root: Path, case: BadContract) -> Path:
    original = (repo_root / "pipelines" / "orders.yaml").read_text()
    if case.text:
        body = case.text(original)
    else:
        doc = yaml.safe_load(original)
        assert case.edit is not None
        case.edit(doc)
        body = yaml.safe_dump(doc, sort_keys=False)
    path = folder / "orders.yaml"
    path.write_text(body)
    return path


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 20 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_contract_mistake_is_one_clear_line(case, repo_root, tmp_path):
    path = write_case(tmp_path, repo_root, case)
    with pytest.raises(ContractError) as raised:
        load_contract(path)
    message = str(raised.value)
    assert "\n" not in message, message
    assert str(path) in message, message
    assert case.fragment in message, message


@pytest.mark.parametrize(
    "name",
    ["unclosed bracket", "unknown column type", "in_set without values", *(c.name for c in RUN_CASES)],
)
def test_cli_prints_one_error_line_for_a_contract_mistake(name, repo_root, tmp_path):
    case = next(c for c in CASES + RUN_CASES if c.name == name)
    pipelines = tmp_path / "pipelines"
    pipelines.mkdir()
    write_case(pipelines, repo_root, case)
    (pipelines / "customers.yaml").write_text((repo_root / "pipelines" / "customers.yaml").read_text())  # referenced
    proc = subprocess.run(
        [BATCHLAKE, "run", "orders", "--lake", str(tmp_path / "lake"), "--pipelines", str(pipelines)],
        cwd=tmp_path, env=os.environ.copy(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("batchlake: error:")]
    assert len(errors) == 1 and case.fragment in errors[0], proc.stderr
    assert str(pipelines / "orders.yaml") in errors[0]
    assert not (tmp_path / "lake" / "raw").exists()  # refused before any request
