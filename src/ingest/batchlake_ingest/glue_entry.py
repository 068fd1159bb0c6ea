"""AWS Glue ingest job entry point (`batchlake_ingest.glue_entry`, from the wheel): a Glue 5.0 or Python shell job.

Job parameters: --dataset, --contract_uri (s3:// URI of the contract YAML), --raw_bucket, --kms_key_arn,
optionally --run_id. Raw parts, the manifest and the cursor go to s3://<raw_bucket>/raw/... and .../state/...,
encrypted with the KMS key. Logs are JSON lines (CloudWatch). A user error ends the job with one line and exit 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

import orjson
import yaml
from batchlake_core.contract import ContractError, parse_contract
from batchlake_core.layout import Lake, new_run_id
from batchlake_core.storage import S3ObjectStore, split_s3_uri

from batchlake_ingest.errors import IngestError
from batchlake_ingest.logs import configure_logging
from batchlake_ingest.pipeline import IngestResult, ingest_dataset

REQUIRED = ["dataset", "contract_uri", "raw_bucket", "kms_key_arn"]
OPTIONAL = ["run_id"]
log = logging.getLogger("batchlake_ingest.glue_entry")


def job_arguments(argv: list[str]) -> dict[str, str]:
    """Glue's `getResolvedOptions` when running on Glue, argparse otherwise (same `--name value` syntax)."""
    present = [name for name in OPTIONAL if f"--{name}" in argv]
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        parser = argparse.ArgumentParser(prog="batchlake-ingest-glue", description=__doc__)
        for name in REQUIRED:
            parser.add_argument(f"--{name}", required=True)
        for name in OPTIONAL:
            parser.add_argument(f"--{name}")
        known, _ = parser.parse_known_args(argv[1:])  # Glue adds its own --job-bookmark-option etc.
        return {k: v for k, v in vars(known).items() if v is not None}
    return getResolvedOptions(argv, REQUIRED + present)


def run(args: dict[str, str], s3_client: Any = None) -> IngestResult:
    store = S3ObjectStore(client=s3_client, kms_key_id=args["kms_key_arn"])
    bucket, key = split_s3_uri(args["contract_uri"])
    try:
        text = store.client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except store.client.exceptions.NoSuchKey:
        raise IngestError(
            f"contract {args['contract_uri']} does not exist: upload pipelines/ with the artifacts"
        ) from None
    try:
        contract = parse_contract(yaml.safe_load(text), args["contract_uri"])
    except yaml.YAMLError as e:
        raise ContractError(f"{args['contract_uri']}: invalid YAML ({e})") from None
    if contract.dataset != args["dataset"]:
        raise IngestError(f"--dataset {args['dataset']} but {args['contract_uri']} is dataset {contract.dataset}")
    raw_bucket = args["raw_bucket"]
    lake = Lake({"raw": f"s3://{raw_bucket}/raw", "state": f"s3://{raw_bucket}/state"})
    return ingest_dataset(contract, lake, args.get("run_id") or new_run_id(), store=store, progress=False)


def main(argv: list[str] | None = None) -> None:
    configure_logging(json_lines=True)
    argv = list(sys.argv if argv is None else argv)
    try:
        result = run(job_arguments(argv))
    except (IngestError, ContractError) as e:
        log.error(str(e), extra={"fields": {"exit_code": 2}})
        print(f"batchlake-ingest: error: {e}", file=sys.stderr)
        sys.exit(2)
    print(orjson.dumps(result.to_json()).decode())


if __name__ == "__main__":
    main()
