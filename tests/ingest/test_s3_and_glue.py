"""The S3 writer and the Glue entry point against moto: same layout and bytes as locally, SSE-KMS, multipart."""

from __future__ import annotations

import gzip
import hashlib
import math
import os
from pathlib import Path

import boto3
import orjson
import pytest
import yaml
from batchlake_core.storage import S3ObjectStore
from batchlake_ingest import glue_entry
from batchlake_ingest.pipeline import ingest_dataset
from batchlake_ingest.writer import RawWriter
from moto import mock_aws

from .conftest import make_contract
from .fake_api import FakeApi

INCREMENTAL = {"cursor_field": "updated_at", "request_param": "updated_since"}


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        s3 = boto3.client("s3")
        for bucket in ("raw-bucket", "artifacts-bucket"):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        key_arn = boto3.client("kms").create_key(Description="raw zone")["KeyMetadata"]["Arn"]
        yield s3, key_arn


def keys(s3, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_glue_entry_ingests_to_s3_with_the_local_layout_and_bytes(aws, api: FakeApi, lake, tmp_path: Path) -> None:
    s3, key_arn = aws
    contract = make_contract(api.url, incremental=INCREMENTAL, records_per_file=40)
    body = yaml.safe_dump(contract.model_dump(mode="json", by_alias=True, exclude_none=True))
    s3.put_object(Bucket="artifacts-bucket", Key="pipelines/items.yaml", Body=body.encode())
    args = ["glue", "--dataset", "items", "--contract_uri", "s3://artifacts-bucket/pipelines/items.yaml"]
    args += ["--raw_bucket", "raw-bucket", "--kms_key_arn", key_arn, "--run_id", "r1", "--job-bookmark-option", "x"]
    glue_entry.main(args)

    local = ingest_dataset(contract, lake, "r1", progress=False)
    local_files = sorted(
        str(p.relative_to(Path(lake.zone("raw")).parent))
        for p in Path(lake.zone("raw")).parent.rglob("*")
        if p.is_file()
    )
    assert keys(s3, "raw-bucket") == local_files
    part_key = f"raw/items/ingest_date={local.ingest_date}/run_id=r1/part-00001.jsonl.gz"
    s3_part = s3.get_object(Bucket="raw-bucket", Key=part_key)["Body"].read()
    assert s3_part == (Path(lake.zone("raw")).parent / part_key).read_bytes()  # deterministic gzip: same bytes
    manifest = orjson.loads(
        s3.get_object(Bucket="raw-bucket", Key=part_key.replace("part-00001.jsonl.gz", "_manifest.json"))["Body"].read()
    )
    assert manifest["files"][1]["sha256"] == hashlib.sha256(s3_part).hexdigest()
    assert manifest["records"] == 95 and manifest["cursor"]["value"] == "2026-01-01T01:34:00Z"
    for key in keys(s3, "raw-bucket"):
        head = s3.head_object(Bucket="raw-bucket", Key=key)
        assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key_arn, key

    # a second job run is incremental from the cursor stored on S3
    api.requests.clear()
    glue_entry.main([a if a != "r1" else "r2" for a in args])
    assert api.data_requests()[0]["query"]["updated_since"] == "2026-01-01T01:34:00Z"


def test_glue_entry_user_error_is_one_line_and_exit_2(aws, capsys) -> None:
    _, key_arn = aws
    args = ["glue", "--dataset", "items", "--contract_uri", "s3://artifacts-bucket/pipelines/missing.yaml"]
    with pytest.raises(SystemExit) as e:
        glue_entry.main([*args, "--raw_bucket", "raw-bucket", "--kms_key_arn", key_arn])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        "batchlake-ingest: error: contract s3://artifacts-bucket/pipelines/missing.yaml does not exist: "
        "upload pipelines/ with the artifacts"
    )


def test_large_part_goes_up_as_multipart_with_sse_kms(aws) -> None:
    s3, key_arn = aws
    store = S3ObjectStore(client=s3, kms_key_id=key_arn)
    writer = RawWriter(store, "s3://raw-bucket/raw/big/run_id=r1", 2000, multipart_threshold_bytes=5 * 1024 * 1024)
    records = [{"id": i, "blob": os.urandom(3000).hex()} for i in range(2000)]  # hex: ~6 MB gzipped
    writer.write(records)
    (part,) = writer.close()
    head = s3.head_object(Bucket="raw-bucket", Key="raw/big/run_id=r1/part-00000.jsonl.gz")
    upload_parts = math.ceil(part.bytes / (5 * 1024 * 1024))
    assert upload_parts >= 2 and head["ETag"].strip('"').endswith(f"-{upload_parts}")  # a multipart upload
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key_arn
    body = s3.get_object(Bucket="raw-bucket", Key="raw/big/run_id=r1/part-00000.jsonl.gz")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == part.sha256 and len(body) == part.bytes
    assert [orjson.loads(line) for line in gzip.decompress(body).splitlines()] == records


class SimulatedCrash(BaseException):
    """Stands in for SIGKILL in-process (moto lives in this process): nothing after the crash point runs."""


@pytest.mark.parametrize("crash_at", ["after_part_written", "after_manifest"])
def test_crash_recovery_on_s3(aws, api: FakeApi, monkeypatch, crash_at: str) -> None:
    from batchlake_core.layout import Lake
    from batchlake_ingest import faults

    s3, key_arn = aws
    store = S3ObjectStore(client=s3, kms_key_id=key_arn)
    lake = Lake({"raw": "s3://raw-bucket/raw", "state": "s3://raw-bucket/state"})
    contract = make_contract(api.url, incremental=INCREMENTAL, records_per_file=30, concurrency=1)

    def crash(name: str) -> None:
        if name == crash_at:
            raise SimulatedCrash(name)

    monkeypatch.setattr(faults, "point", crash)
    with pytest.raises(SimulatedCrash):
        ingest_dataset(contract, lake, "r1", store=store, progress=False)
    monkeypatch.undo()
    result = ingest_dataset(contract, lake, "r2", store=store, progress=False)

    manifests = [k for k in keys(s3, "raw-bucket") if k.endswith("_manifest.json")]
    records = []
    for manifest_key in sorted(manifests):
        manifest = orjson.loads(s3.get_object(Bucket="raw-bucket", Key=manifest_key)["Body"].read())
        for part in manifest["files"]:
            body = s3.get_object(Bucket="raw-bucket", Key=manifest_key.replace("_manifest.json", part["name"]))
            records += [orjson.loads(line) for line in gzip.decompress(body["Body"].read()).splitlines()]
    assert records == api.records  # once each, none lost
    assert result.records == (0 if crash_at == "after_manifest" else 95)
    run_dirs = {k.rsplit("/", 1)[0] for k in keys(s3, "raw-bucket") if k.startswith("raw/")}
    assert all(f"{d}/_manifest.json" in keys(s3, "raw-bucket") for d in run_dirs)  # no half-written run left
    assert [k for k in keys(s3, "raw-bucket") if k.startswith("state/")] == ["state/items/ingest_cursor.json"]
