"""`batchlake ingest DATASET`: one ingest run of a dataset from its contract into the local lake's raw zone."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from batchlake_core.contract import load_contract
from batchlake_core.layout import Lake, new_run_id

from batchlake.environment import lake_root_from
from batchlake.errors import UserError


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest(
        dataset: Annotated[str, typer.Argument(help="dataset name: pipelines/<DATASET>.yaml")],
        lake: Annotated[Path | None, typer.Option(help="lake root (default: $BATCHLAKE_LAKE or ./.lake)")] = None,
        pipelines: Annotated[Path, typer.Option(help="folder of dataset contracts")] = Path("pipelines"),
        run_id: Annotated[str | None, typer.Option(help="run id (default: a new sortable id)")] = None,
        progress: Annotated[
            bool | None, typer.Option("--progress/--no-progress", help="progress bar (default: if stderr is a tty)")
        ] = None,
        json_output: Annotated[bool, typer.Option("--json", help="print the result as one JSON object")] = False,
    ) -> None:
        """Fetch every new page of DATASET's API into raw/<dataset>/ (incremental, exactly once across crashes)."""
        from batchlake_ingest.logs import configure_logging
        from batchlake_ingest.pipeline import ingest_dataset

        contract_path = pipelines / f"{dataset}.yaml"
        if not contract_path.is_file():
            known = sorted(p.stem for p in pipelines.glob("*.yaml")) if pipelines.is_dir() else []
            hint = f"known datasets: {', '.join(known)}" if known else f"no contracts in {pipelines}/: use --pipelines"
            raise UserError(f"no contract {contract_path} for dataset {dataset!r}: {hint}")
        contract = load_contract(contract_path)
        root = lake_root_from(lake)
        terminal = sys.stderr.isatty()  # a person: bar + warnings (retries, recoveries); else JSON lines, all events
        show_bar = terminal if progress is None else progress
        configure_logging(json_lines=not terminal, level=logging.WARNING if terminal else logging.INFO)
        result = ingest_dataset(contract, Lake.local(root), run_id or new_run_id(), progress=show_bar)
        if json_output:
            typer.echo(orjson.dumps(result.to_json()).decode())
        elif result.already_committed:
            typer.echo(f"run {result.run_id} of {result.dataset} was already committed: {result.manifest_uri}")
        else:
            rate = result.records / result.seconds if result.seconds else 0.0
            typer.echo(
                f"ingested {result.records:,} {result.dataset} records in {result.files} files "
                f"({result.pages} pages, {result.seconds:.1f} s, {rate:,.0f} records/s); "
                f"cursor {result.cursor_before} -> {result.cursor_after}; manifest {result.manifest_uri}"
            )
