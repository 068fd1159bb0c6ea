"""AWS Glue Spark job entry point (Glue 5.0: Spark 3.5, Python 3.11) — the only file that knows about Glue.

Job parameters (set by modules/glue_pipeline): --dataset, --contract_uri (s3:// URI of the dataset's YAML),
--raw_bucket, --processed_bucket, --database, optional --kms_key_arn and --run_id.
Everything else is the same code the local runner uses: `batchlake_transforms.pipeline.transform_validate_publish`.

Outside Glue (`awsglue` not importable) it runs on a plain SparkSession, and `--local_lake PATH` points it at a
local lake: that is how the tests exercise this file.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import yaml
from batchlake_core.catalog import GlueCatalog
from batchlake_core.catalog.tables import ProcessedCatalog
from batchlake_core.contract import parse_contract
from batchlake_core.errors import UserError
from batchlake_core.layout import Lake, new_run_id
from batchlake_core.storage import LocalObjectStore, S3ObjectStore, store_for
from batchlake_core.versions import package_versions

from batchlake_transforms.pipeline import transform_validate_publish, write_run_report
from batchlake_transforms.publish import discard_leftovers_of_killed_runs, resume_publish
from batchlake_transforms.report import RunSummary
from batchlake_transforms.spark import apply_required_conf

REQUIRED = ("dataset", "contract_uri", "raw_bucket", "processed_bucket", "database")
OPTIONAL = ("kms_key_arn", "run_id", "local_lake")


def resolve_args(argv: list[str]) -> dict[str, str | None]:
    """Glue's `getResolvedOptions` on Glue; the same `--name value` parameters through argparse elsewhere."""
    try:
        from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
    except ImportError:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        for name in REQUIRED:
            parser.add_argument(f"--{name}", required=True)
        for name in OPTIONAL:
            parser.add_argument(f"--{name}")
        return vars(parser.parse_known_args(argv[1:])[0])
    given = [n for n in OPTIONAL if f"--{n}" in argv]
    return {**dict.fromkeys(OPTIONAL), **getResolvedOptions(argv, ["JOB_NAME", *REQUIRED, *given])}


def glue_spark(args: dict[str, str | None]):
    """(spark, commit) — a GlueContext job when on Glue, a plain session otherwise."""
    try:
        from awsglue.context import GlueContext  # type: ignore[import-not-found]
        from awsglue.job import Job  # type: ignore[import-not-found]
        from pyspark.context import SparkContext
    except ImportError:
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
        apply_required_conf(spark, huge_method_fallback=True)
        return spark, lambda: None
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)
    apply_required_conf(glue_context.spark_session, huge_method_fallback=True)
    return glue_context.spark_session, job.commit


def main(argv: list[str] | None = None, glue_client=None) -> int:
    args = resolve_args(sys.argv if argv is None else argv)
    spark, commit = glue_spark(args)
    dataset, database = str(args["dataset"]), str(args["database"])
    contract_uri = str(args["contract_uri"])
    contract = parse_contract(yaml.safe_load(store_for(contract_uri).get_text(contract_uri)), contract_uri)
    if contract.dataset != dataset:
        raise SystemExit(f"--dataset {dataset} does not match the contract's dataset {contract.dataset}")

    if args.get("local_lake"):
        lake, store = Lake.local(str(args["local_lake"])), LocalObjectStore()
    else:
        raw, processed = str(args["raw_bucket"]), str(args["processed_bucket"])
        zones = {"raw": raw, "state": raw, "athena-results": processed, "artifacts": processed}
        zones |= dict.fromkeys(("processed", "staging", "quarantine", "reports"), processed)
        lake, store = Lake.s3(zones), S3ObjectStore(kms_key_id=args.get("kms_key_arn"))
    tables = ProcessedCatalog(GlueCatalog(glue_client), database)

    summary = RunSummary(
        dataset=dataset,
        run_id=str(args.get("run_id") or new_run_id()),
        environment="aws-glue",
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        versions=package_versions(("batchlake-core", "batchlake-transforms")),
    )
    resume_publish(contract, lake, store, tables)
    discard_leftovers_of_killed_runs(lake, store, dataset)
    try:
        transform_validate_publish(lambda _records: spark, contract, lake, store, summary, tables, log=print)
    except UserError as e:  # the job fails below with this one line, and the run's report says why
        summary.status, summary.published, summary.reason = "failed", False, str(e)
    summary.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"report: {write_run_report(summary, lake, store)}")
    if not summary.published:
        # A failed job run is what makes the Glue workflow stop and alarms fire.
        raise SystemExit(f"{dataset}: {summary.reason}")
    commit()
    return 0


if __name__ == "__main__":
    main()
