"""Object storage: the local folder and S3 (moto) behave the same."""

from __future__ import annotations

import boto3
import pytest
from batchlake_core.storage import LocalObjectStore, S3ObjectStore
from moto import mock_aws


@pytest.fixture
def s3(monkeypatch):
    """A moto S3 client with an empty bucket `lake`."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket="lake", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield client


@pytest.fixture(params=["local", "s3"])
def store_and_root(request, tmp_path):
    if request.param == "local":
        return LocalObjectStore(), str(tmp_path / "zone")
    return S3ObjectStore(request.getfixturevalue("s3")), "s3://lake/zone"


def test_put_get_list_delete(store_and_root, tmp_path):
    store, root = store_and_root
    store.put_bytes(f"{root}/a/1.json", b"one")
    source = tmp_path / "upload.bin"
    source.write_bytes(b"two")
    store.put_file(f"{root}/a/b/2.bin", source)
    store.put_bytes(f"{root}/a2/3.json", b"three")
    assert store.get_text(f"{root}/a/1.json") == "one"
    assert list(store.list(f"{root}/a")) == [f"{root}/a/1.json", f"{root}/a/b/2.bin"]
    assert store.exists(f"{root}/a/b/2.bin") and not store.exists(f"{root}/a/nope")
    store.delete(f"{root}/a/1.json")
    store.delete(f"{root}/a/1.json")  # deleting what is not there is fine
    store.delete_prefix(f"{root}/a")
    assert list(store.list(f"{root}/a")) == []
    assert list(store.list(f"{root}/a2")) == [f"{root}/a2/3.json"]  # a sibling with the same prefix survives


def test_iter_lines_streams_the_lines_without_their_ends(store_and_root):
    store, root = store_and_root
    big_line = b"x" * 3_000_000  # longer than any read chunk
    store.put_bytes(f"{root}/q.json", b'{"a": 1}\r\n\n' + big_line + b"\nlast")
    assert list(store.iter_lines(f"{root}/q.json")) == [b'{"a": 1}', b"", big_line, b"last"]
    lines = store.iter_lines(f"{root}/q.json")
    assert next(lines) == b'{"a": 1}'
    lines.close()  # stopping early releases the file or the S3 response


def test_s3_iter_lines_reads_only_what_it_yields_and_closes_the_response(s3, monkeypatch):
    s3.put_object(Bucket="lake", Key="q.json", Body=b"first\n" + b"x" * 8_000_000)
    bodies = []
    get_object = s3.get_object

    def recording_get_object(**kwargs):
        response = get_object(**kwargs)
        bodies.append(response["Body"])
        return response

    monkeypatch.setattr(s3, "get_object", recording_get_object)
    lines = S3ObjectStore(s3).iter_lines("s3://lake/q.json")
    assert next(lines) == b"first"
    lines.close()
    [body] = bodies
    assert body._amount_read <= 2 * (1 << 20)  # botocore's count of bytes read from the response
    assert body._raw_stream.closed


def test_local_writes_leave_no_temporary_files(tmp_path):
    store = LocalObjectStore()
    for i in range(3):
        store.put_bytes(str(tmp_path / "x.json"), str(i).encode())
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    assert (tmp_path / "x.json").read_text() == "2"
