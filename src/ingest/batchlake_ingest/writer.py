"""Raw writers: records stream into gzip JSON-lines parts of `records_per_file` records under the run folder,
`part-00000.jsonl.gz`, `part-00001.jsonl.gz`, ... The layout is identical on a local folder and on S3.

Memory stays flat: a part is compressed to a file as records arrive and is never held whole. Locally a part is
written under a hidden temporary name and renamed; on S3 it is spooled to a temporary file and uploaded in the
background (multipart above `multipart_threshold_bytes`, SSE-KMS when the store has a key) while the next part
fills. Parts are invisible to readers until the run's manifest exists (written by the pipeline, last).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
from batchlake_core.storage import LocalObjectStore, ObjectStore, S3ObjectStore, split_s3_uri

from batchlake_ingest import faults


@dataclass(frozen=True)
class PartFile:
    name: str
    records: int
    bytes: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def part_name(index: int) -> str:
    return f"part-{index:05d}.jsonl.gz"


class _HashingFile:
    """Write-only file wrapper that counts and hashes what goes through (the compressed bytes)."""

    def __init__(self, f: Any) -> None:
        self.f, self.sha256, self.size = f, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.f.write(data)

    def flush(self) -> None:
        self.f.flush()


class RawWriter:
    def __init__(
        self,
        store: ObjectStore,
        run_uri: str,
        records_per_file: int,
        compresslevel: int = 1,
        multipart_threshold_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self.store, self.run_uri, self.records_per_file = store, run_uri.rstrip("/"), records_per_file
        self.compresslevel = compresslevel
        self.multipart_threshold_bytes = multipart_threshold_bytes
        self.local = isinstance(store, LocalObjectStore)
        self.parts: list[PartFile] = []
        self.records = 0
        self._spool_dir = None if self.local else tempfile.mkdtemp(prefix="batchlake-ingest-")
        self._uploader = None if self.local else ThreadPoolExecutor(1, thread_name_prefix="raw-upload")
        self._upload: Future[None] | None = None
        self._open_part: tuple[Any, _HashingFile, gzip.GzipFile, str] | None = None
        self._in_part = 0

    # --- writing ---------------------------------------------------------------------------------------------

    def write(self, records: list[dict[str, Any]]) -> None:
        """Append records (in order) to the current part, starting new parts every `records_per_file`."""
        start = 0
        while start < len(records):
            if self._open_part is None:
                self._start_part()
            take = min(len(records) - start, self.records_per_file - self._in_part)
            chunk = records[start : start + take] if start or take < len(records) else records
            self._open_part[2].write(b"\n".join(map(orjson.dumps, chunk)) + b"\n")
            self._in_part += take
            self.records += take
            start += take
            if self._in_part >= self.records_per_file:
                self._finish_part()

    def close(self) -> list[PartFile]:
        """Finish the last part, wait for uploads; the list of parts for the manifest."""
        if self._open_part is not None:
            self._finish_part()
        self._wait_upload()
        self._cleanup()
        return list(self.parts)

    def abort(self) -> None:
        """Drop local temporary files (an aborted run's uploaded parts stay invisible: there is no manifest)."""
        if self._open_part is not None:
            raw, _, gz, path = self._open_part
            # Closing flushes gzip's buffer, which fails again on a full disk: that must not hide the first error.
            with contextlib.suppress(OSError):
                gz.close()
            with contextlib.suppress(OSError):
                raw.close()
            Path(path).unlink(missing_ok=True)
            self._open_part = None
        with contextlib.suppress(Exception):
            self._wait_upload()
        self._cleanup()

    # --- parts -----------------------------------------------------------------------------------------------

    def _target(self, index: int) -> str:
        return f"{self.run_uri}/{part_name(index)}"

    def _start_part(self) -> None:
        index = len(self.parts)
        if self.local:
            Path(self.run_uri).mkdir(parents=True, exist_ok=True)
            path = str(Path(self.run_uri) / f".{part_name(index)}.tmp")
        else:
            path = os.path.join(self._spool_dir, part_name(index))
        raw = open(path, "wb")  # noqa: SIM115 - closed in _finish_part / abort
        hashing = _HashingFile(raw)
        gz = gzip.GzipFile(fileobj=hashing, mode="wb", compresslevel=self.compresslevel, mtime=0)
        self._open_part, self._in_part = (raw, hashing, gz, path), 0

    def _finish_part(self) -> None:
        raw, hashing, gz, path = self._open_part
        gz.close()
        raw.flush()
        os.fsync(raw.fileno())
        raw.close()
        index = len(self.parts)
        self.parts.append(PartFile(part_name(index), self._in_part, hashing.size, hashing.sha256.hexdigest()))
        self._open_part, self._in_part = None, 0
        target = self._target(index)
        if self.local:
            os.replace(path, target)
        else:
            self._wait_upload()  # at most one part uploading while the next one fills
            self._upload = self._uploader.submit(self._upload_part, path, target)
        faults.point("after_part_written")

    def _upload_part(self, path: str, target: str) -> None:
        try:
            upload_to_s3(self.store, path, target, self.multipart_threshold_bytes)
        finally:
            Path(path).unlink(missing_ok=True)

    def _wait_upload(self) -> None:
        if self._upload is not None:
            upload, self._upload = self._upload, None
            upload.result()

    def _cleanup(self) -> None:
        if self._uploader is not None:
            self._uploader.shutdown(wait=True)
            self._uploader = None
        if self._spool_dir is not None:
            shutil.rmtree(self._spool_dir, ignore_errors=True)
            self._spool_dir = None


def upload_to_s3(store: ObjectStore, path: str, target: str, multipart_threshold_bytes: int) -> None:
    """Upload a file to S3 (multipart above the threshold, SSE-KMS when the store has a key)."""
    if not isinstance(store, S3ObjectStore):
        store.put_file(target, path)
        return
    from boto3.s3.transfer import TransferConfig

    bucket, key = split_s3_uri(target)
    config = TransferConfig(
        multipart_threshold=multipart_threshold_bytes,
        multipart_chunksize=max(multipart_threshold_bytes, 5 * 1024 * 1024),
        max_concurrency=4,
    )
    extra: dict[str, str] = {"ContentType": "application/gzip"}
    if store.kms_key_id:
        extra.update({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": store.kms_key_id})
    store.client.upload_file(path, bucket, key, ExtraArgs=extra, Config=config)
