"""What `batchlake run` prints at the end: a table of the runs, where their reports are, and a query to try."""

from __future__ import annotations

from batchlake.commands.run import print_outcome
from batchlake.environment import local_environment
from batchlake_transforms.report import RunSummary


def summary(dataset: str, rows: int | None) -> RunSummary:
    return RunSummary(dataset, "run-1", "local", "2026-01-01T00:00:00Z", status="published", processed_table_rows=rows)


def test_the_query_to_try_names_a_table_of_the_run(tmp_path, capsys):
    env = local_environment(tmp_path)
    print_outcome(env, [summary("customers", 20)])
    out = capsys.readouterr().out
    assert f"batchlake query --sql 'SELECT count(*) FROM customers' --lake {tmp_path}" in out
    assert "orders" not in out

    print_outcome(env, [summary("invoices", None)])  # nothing published yet: no table to query
    assert "Query it yourself" not in capsys.readouterr().out
