"""`batchlake query`: Athena SQL on the local lake (DuckDB) or on an AWS workspace (Athena)."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Annotated

import typer

from batchlake.errors import UserError


class OutputFormat:
    choices = ("table", "csv", "json")


def engine_for(env: str, lake: str | Path | None):
    """The query engine of an environment: DuckDB over the local catalog, or the workspace's Athena workgroup."""
    from batchlake.environment import resolve_environment
    from batchlake.query import engine_for_environment

    return engine_for_environment(resolve_environment(env, lake))


def _print_table(result) -> None:
    from rich.console import Console
    from rich.table import Table

    from batchlake.query.result import athena_text

    table = Table(show_lines=False)
    for c in result.columns:
        table.add_column(c)
    for row in result.rows:
        table.add_row(*["NULL" if v is None else athena_text(v) for v in row])
    console = Console()
    if result.columns:
        console.print(table)
    mib = result.bytes_scanned / 2**20
    console.print(
        f"{len(result.rows)} rows, {result.elapsed_seconds:.2f} s, {mib:.2f} MiB scanned, "
        f"query id {result.query_id}, results {result.output_location}",
        style="dim",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    @app.command("query")
    def query(
        file: Annotated[Path | None, typer.Argument(help="a .sql file (one or more statements separated by ;)")] = None,
        sql: Annotated[str | None, typer.Option("--sql", help="the SQL text instead of a file")] = None,
        env: Annotated[str, typer.Option("--env", help="local (DuckDB) or a terraform workspace (Athena)")] = "local",
        lake: Annotated[
            Path | None, typer.Option("--lake", help="local lake root (default ./.lake, or BATCHLAKE_LAKE)")
        ] = None,
        output: Annotated[str, typer.Option("--output", help="table | csv | json (rows as an array of objects)")] = (
            "table"
        ),
    ) -> None:
        """Run Athena SQL: locally on DuckDB over the catalog's tables, or on Athena in an AWS workspace."""
        from batchlake.query import run_query

        if output not in OutputFormat.choices:
            raise UserError(f"--output {output!r} is not one of {', '.join(OutputFormat.choices)}")
        if (file is None) == (sql is None):
            raise UserError("give either a SQL file or --sql '...', e.g. batchlake query --sql 'SELECT 1'")
        if file is not None:
            try:
                text, origin = file.read_text(encoding="utf-8"), str(file)
            except OSError as e:
                raise UserError(f"{file}: cannot read the SQL file ({e.strerror})") from None
        else:
            text, origin = sql, "--sql"
        engine = engine_for(env, lake)
        try:
            result = run_query(text, engine=engine, origin=origin)
        finally:
            engine.close()
        if output == "json":
            sys.stdout.write(result.to_json() + "\n")
        elif output == "csv":
            from batchlake.query.result import athena_text

            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(result.columns)
            writer.writerows([["" if v is None else athena_text(v) for v in row] for row in result.rows])
            sys.stdout.write(buffer.getvalue())
        else:
            _print_table(result)
