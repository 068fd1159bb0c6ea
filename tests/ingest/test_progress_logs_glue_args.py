"""Progress output (bar or JSON log lines), redaction, and Glue job argument parsing."""

from __future__ import annotations

import io
import logging
import sys
import types

import orjson
from batchlake_ingest import glue_entry
from batchlake_ingest import progress as progress_module
from batchlake_ingest.logs import configure_logging
from batchlake_ingest.pipeline import ingest_dataset
from batchlake_ingest.progress import LogProgress, RichProgress, make_progress
from batchlake_ingest.secret_refs import redact, remember_secret

from .conftest import make_contract
from .fake_api import FakeApi


def test_without_a_terminal_progress_is_json_log_lines_with_records_per_s(api: FakeApi, lake, monkeypatch) -> None:
    stream = io.StringIO()
    configure_logging(json_lines=True, stream=stream)
    monkeypatch.setattr(progress_module, "LOG_INTERVAL_SECONDS", 0.0)  # a line for every page
    assert isinstance(make_progress("items", None, stream=io.StringIO()), LogProgress)  # StringIO is no tty
    ingest_dataset(make_contract(api.url, concurrency=1), lake, "r1", progress=None)
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    progress = [line for line in lines if line["message"] == "progress"]
    assert [p["records"] for p in progress] == [*range(10, 91, 10), 95]
    assert [p["pages_total"] for p in progress] == [None] + [10] * 9  # known once page 1 gave the page count
    assert all(p["records_per_s"] >= 0 and p["level"] == "info" and p["ts"].endswith("Z") for p in progress)
    assert lines[-1]["message"] == "ingest committed" and lines[-1]["records"] == 95


def test_progress_bar_on_request(api: FakeApi, lake) -> None:
    assert isinstance(make_progress("items", True), RichProgress)
    result = ingest_dataset(make_contract(api.url), lake, "r1", progress=True)
    assert result.records == 95


def test_redact_blanks_plain_and_url_encoded_secrets() -> None:
    remember_secret("p@ss word/+1")
    text = "a=p@ss word/+1 b=p%40ss%20word%2F%2B1 c=p%40ss+word%2F%2B1"
    assert redact(text) == "a=*** b=*** c=***"


def test_json_log_formatter_redacts_other_libraries_lines() -> None:
    remember_secret("tok-123456")
    stream = io.StringIO()
    handler = configure_logging(json_lines=True, stream=stream)
    record = logging.LogRecord("urllib3", logging.DEBUG, __file__, 1, "GET /x?key=%s", ("tok-123456",), None)
    handler.handle(record)
    assert "tok-123456" not in stream.getvalue() and "key=***" in stream.getvalue()


def test_glue_arguments_with_get_resolved_options(monkeypatch) -> None:
    """On Glue, awsglue.utils.getResolvedOptions parses; the optional --run_id is asked for only when present."""
    asked = []

    def get_resolved_options(argv, names):
        asked.append(list(names))
        return {n: argv[argv.index(f"--{n}") + 1] for n in names}

    awsglue = types.ModuleType("awsglue")
    utils = types.ModuleType("awsglue.utils")
    utils.getResolvedOptions = get_resolved_options
    monkeypatch.setitem(sys.modules, "awsglue", awsglue)
    monkeypatch.setitem(sys.modules, "awsglue.utils", utils)
    argv = ["job", "--dataset", "orders", "--contract_uri", "s3://a/p/orders.yaml", "--raw_bucket", "raw"]
    argv += ["--kms_key_arn", "arn:k"]
    assert glue_entry.job_arguments(argv)["raw_bucket"] == "raw"
    assert glue_entry.job_arguments([*argv, "--run_id", "r9"])["run_id"] == "r9"
    assert asked == [glue_entry.REQUIRED, [*glue_entry.REQUIRED, "run_id"]]


def test_glue_arguments_without_awsglue_use_argparse_and_ignore_glue_extras(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "awsglue", None)  # import fails like off Glue
    argv = ["job", "--dataset", "orders", "--contract_uri", "s3://a/p/orders.yaml", "--raw_bucket", "raw"]
    argv += ["--kms_key_arn", "arn:k", "--JOB_ID", "j_1", "--job-bookmark-option", "job-bookmark-disable"]
    assert glue_entry.job_arguments(argv) == {
        "dataset": "orders",
        "contract_uri": "s3://a/p/orders.yaml",
        "raw_bucket": "raw",
        "kms_key_arn": "arn:k",
    }


def test_text_log_lines_for_terminals_carry_the_fields_and_no_secrets() -> None:
    remember_secret("tok-987654")
    stream = io.StringIO()
    handler = configure_logging(json_lines=False, stream=stream)
    record = logging.LogRecord("batchlake_ingest", logging.INFO, __file__, 1, "ingest started", (), None)
    record.fields = {"dataset": "orders", "url": "http://x/?k=tok-987654"}
    handler.handle(record)
    assert stream.getvalue() == "INFO ingest started dataset=orders url=http://x/?k=***\n"
