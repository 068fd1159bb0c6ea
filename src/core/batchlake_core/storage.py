"""Object storage behind one small interface: a local folder or S3.

Keys are full URIs as produced by `batchlake_core.layout.Lake`: a local absolute path or
`s3://bucket/key`. Writes are atomic for readers: a local write goes to a temporary file that is
renamed into place; an S3 PUT is atomic by itself.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any


class ObjectStore(ABC):
    @abstractmethod
    def put_bytes(self, uri: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    @abstractmethod
    def put_file(self, uri: str, local_path: str | Path) -> None: ...

    @abstractmethod
    def get_bytes(self, uri: str) -> bytes: ...

    @abstractmethod
    def iter_lines(self, uri: str) -> Iterator[bytes]:
        """The object's lines without their line ends, read as they are consumed (not the whole object at once).

        Lines end at "\\n" (a "\\r" before it is dropped). On S3, botocore also ends a line at a lone "\\r": meant for
        JSON lines, where a line never holds one (JSON escapes it). Close the iterator when stopping early.
        """

    @abstractmethod
    def exists(self, uri: str) -> bool: ...

    @abstractmethod
    def list(self, prefix_uri: str) -> Iterator[str]:
        """Every object URI under a prefix, recursively, sorted."""

    @abstractmethod
    def delete_prefix(self, prefix_uri: str) -> None: ...

    @abstractmethod
    def delete(self, uri: str) -> None:
        """Delete one object; no error if it is not there."""

    def get_text(self, uri: str) -> str:
        return self.get_bytes(uri).decode("utf-8")


class LocalObjectStore(ObjectStore):
    def put_bytes(self, uri: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, uri: str, local_path: str | Path) -> None:
        path = Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        shutil.copyfile(local_path, tmp)
        os.replace(tmp, path)

    def get_bytes(self, uri: str) -> bytes:
        return Path(uri).read_bytes()

    def iter_lines(self, uri: str) -> Iterator[bytes]:
        with open(uri, "rb") as f:
            for line in f:
                yield line.rstrip(b"\r\n")

    def exists(self, uri: str) -> bool:
        return Path(uri).exists()

    def list(self, prefix_uri: str) -> Iterator[str]:
        root = Path(prefix_uri)
        if not root.exists():
            return iter(())
        return iter(sorted(str(p) for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")))

    def delete_prefix(self, prefix_uri: str) -> None:
        shutil.rmtree(prefix_uri, ignore_errors=True)

    def delete(self, uri: str) -> None:
        Path(uri).unlink(missing_ok=True)


def split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


class S3ObjectStore(ObjectStore):
    """S3 through boto3. `kms_key_id` turns on SSE-KMS for every write (buckets also enforce it)."""

    def __init__(self, client: Any = None, kms_key_id: str | None = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.client = client
        self.kms_key_id = kms_key_id

    def _sse(self) -> dict[str, str]:
        if self.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return {}

    def put_bytes(self, uri: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        bucket, key = split_s3_uri(uri)
        self.client.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type, **self._sse())

    def put_file(self, uri: str, local_path: str | Path) -> None:
        bucket, key = split_s3_uri(uri)
        # upload_file switches to multipart above 8 MiB by itself.
        self.client.upload_file(str(local_path), bucket, key, ExtraArgs=self._sse() or None)

    def get_bytes(self, uri: str) -> bytes:
        bucket, key = split_s3_uri(uri)
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def iter_lines(self, uri: str) -> Iterator[bytes]:
        bucket, key = split_s3_uri(uri)
        with closing(self.client.get_object(Bucket=bucket, Key=key)["Body"]) as body:
            yield from body.iter_lines(chunk_size=1 << 20)  # botocore's 1 KiB default re-joins a long line per KiB

    def exists(self, uri: str) -> bool:
        from botocore.exceptions import ClientError

        bucket, key = split_s3_uri(uri)
        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def list(self, prefix_uri: str) -> Iterator[str]:
        bucket, prefix = split_s3_uri(prefix_uri.rstrip("/") + "/")
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield f"s3://{bucket}/{obj['Key']}"

    def delete(self, uri: str) -> None:
        bucket, key = split_s3_uri(uri)
        self.client.delete_object(Bucket=bucket, Key=key)

    def delete_prefix(self, prefix_uri: str) -> None:
        bucket = split_s3_uri(prefix_uri)[0]
        keys = [split_s3_uri(u)[1] for u in self.list(prefix_uri)]
        for i in range(0, len(keys), 1000):
            self.client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i : i + 1000]]})


def store_for(uri: str, **s3_kwargs: Any) -> ObjectStore:
    """The store that serves a URI: S3 for s3://, the local folder otherwise."""
    return S3ObjectStore(**s3_kwargs) if uri.startswith("s3://") else LocalObjectStore()
