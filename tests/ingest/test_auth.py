"""Every auth type against the fake API; secrets come only by reference and never leak."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import boto3
import pytest
from batchlake_ingest.errors import IngestError
from batchlake_ingest.logs import configure_logging
from batchlake_ingest.pipeline import ingest_dataset
from moto import mock_aws

from .conftest import make_contract, read_raw
from .fake_api import FakeApi, Fault

SECRET = "s3cr3t-value-42"


def env_ref(monkeypatch: pytest.MonkeyPatch, value: str = SECRET) -> dict:
    monkeypatch.setenv("ITEMS_API_SECRET", value)
    return {"env": "ITEMS_API_SECRET"}


@pytest.mark.parametrize(
    ("mode", "auth"),
    [
        ("bearer", {"type": "bearer", "token": "REF"}),
        ("api_key_header", {"type": "api_key", "name": "X-Api-Key", "location": "header", "key": "REF"}),
        ("api_key_query", {"type": "api_key", "name": "api_key", "location": "query", "key": "REF"}),
        ("basic", {"type": "basic", "username": "reader", "password": "REF"}),
    ],
)
def test_auth_types_reach_every_page(api: FakeApi, lake, monkeypatch, mode: str, auth: dict) -> None:
    api.config.auth = mode
    auth = {k: (env_ref(monkeypatch) if v == "REF" else v) for k, v in auth.items()}
    ingest_dataset(make_contract(api.url, auth=auth), lake, "r1", progress=False)
    assert read_raw(lake) == api.records


def test_wrong_secret_is_a_one_line_401_error(api: FakeApi, lake, monkeypatch) -> None:
    api.config.auth = "bearer"
    contract = make_contract(api.url, auth={"type": "bearer", "token": env_ref(monkeypatch, "wrong-token-value")})
    with pytest.raises(IngestError) as e:
        ingest_dataset(contract, lake, "r1", progress=False)
    message = str(e.value)
    assert "page 1" in message and f"{api.url}/items" in message and "HTTP 401" in message
    assert "check the credentials in source.auth" in message and "\n" not in message
    assert "wrong-token-value" not in message


def test_missing_env_var_fails_before_any_request(api: FakeApi, lake, monkeypatch) -> None:
    monkeypatch.delenv("ITEMS_API_SECRET", raising=False)
    contract = make_contract(api.url, auth={"type": "bearer", "token": {"env": "ITEMS_API_SECRET"}})
    with pytest.raises(IngestError, match="environment variable ITEMS_API_SECRET is not set: export it"):
        ingest_dataset(contract, lake, "r1", progress=False)
    assert api.requests == []


def test_oauth2_client_credentials_fetches_and_refreshes_the_token(api: FakeApi, lake, monkeypatch) -> None:
    api.config.auth = "oauth2"
    api.config.token_lifetime = 0  # already expired: a new token for every request
    auth = {
        "type": "oauth2_client_credentials",
        "token_url": f"{api.url}/token",
        "client_id": "client-1",
        "client_secret": env_ref(monkeypatch),
        "scope": "read:items",
    }
    ingest_dataset(make_contract(api.url, auth=auth, concurrency=1), lake, "r1", progress=False)
    assert read_raw(lake) == api.records
    token_requests = [r for r in api.requests if r["path"] == "/token"]
    assert len(token_requests) == 10
    assert token_requests[0]["form"]["scope"] == ["read:items"]


def test_oauth2_gets_a_new_token_once_after_a_401(api: FakeApi, lake, monkeypatch) -> None:
    api.config.auth = "oauth2"
    api.config.faults = [Fault(status=401)]
    auth = {
        "type": "oauth2_client_credentials",
        "token_url": f"{api.url}/token",
        "client_id": "client-1",
        "client_secret": env_ref(monkeypatch),
    }
    ingest_dataset(make_contract(api.url, auth=auth), lake, "r1", progress=False)
    assert read_raw(lake) == api.records
    assert len(api.tokens_issued) == 2


def test_oauth2_bad_client_secret_is_one_line(api: FakeApi, lake, monkeypatch) -> None:
    api.config.auth = "oauth2"
    auth = {
        "type": "oauth2_client_credentials",
        "token_url": f"{api.url}/token",
        "client_id": "client-1",
        "client_secret": env_ref(monkeypatch, "not-the-secret"),
    }
    with pytest.raises(IngestError, match=r"OAuth2 token endpoint .*/token answered HTTP 401: check client_id"):
        ingest_dataset(make_contract(api.url, auth=auth), lake, "r1", progress=False)


@mock_aws
def test_secret_from_aws_secrets_manager_json_key(api: FakeApi, lake) -> None:
    boto3.client("secretsmanager", region_name="eu-west-1").create_secret(
        Name="shop/api", SecretString=json.dumps({"token": SECRET, "other": "x"})
    )
    api.config.auth = "bearer"
    auth = {"type": "bearer", "token": {"secrets_manager": "shop/api", "json_key": "token"}}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        ingest_dataset(make_contract(api.url, auth=auth), lake, "r1", progress=False)
        assert read_raw(lake) == api.records
        missing = make_contract(api.url, auth={"type": "bearer", "token": {"secrets_manager": "shop/nope"}})
        with pytest.raises(IngestError, match=r"cannot read AWS Secrets Manager secret shop/nope .*GetSecretValue"):
            ingest_dataset(missing, lake, "r2", progress=False)


@mock_aws
def test_secret_from_ssm_parameter_store(api: FakeApi, lake) -> None:
    boto3.client("ssm", region_name="eu-west-1").put_parameter(Name="/shop/key", Value=SECRET, Type="SecureString")
    api.config.auth = "api_key_header"
    auth = {"type": "api_key", "name": "X-Api-Key", "key": {"ssm_parameter": "/shop/key"}}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        ingest_dataset(make_contract(api.url, auth=auth), lake, "r1", progress=False)
    assert read_raw(lake) == api.records


def test_secret_never_leaks_to_logs_errors_manifests_state_or_result(api: FakeApi, lake, monkeypatch) -> None:
    """API key in the query string (the riskiest place): retries log the URL, a failure names it."""
    api.config.auth = "api_key_query"
    api.config.faults = [Fault(status=503), Fault(status=429, headers={"Retry-After": "0"})]
    stream = io.StringIO()
    handler = configure_logging(json_lines=True, level=logging.DEBUG, stream=stream)
    urllib3_log = logging.getLogger("urllib3")
    urllib3_log.addHandler(handler)  # urllib3 logs full request lines at DEBUG
    urllib3_log.setLevel(logging.DEBUG)
    try:
        auth = {"type": "api_key", "name": "api_key", "location": "query", "key": env_ref(monkeypatch)}
        result = ingest_dataset(make_contract(api.url, auth=auth), lake, "r1", progress=False)
        api.config.faults = [Fault(truncate=True)] * 5  # cut on every attempt (make_contract: max_attempts 5)
        with pytest.raises(IngestError) as failure:
            ingest_dataset(make_contract(api.url, auth=auth, params={"per_page": 5}), lake, "r2", progress=False)
    finally:
        urllib3_log.removeHandler(handler)
        urllib3_log.setLevel(logging.NOTSET)
    logs = stream.getvalue()
    assert "retrying" in logs and "api_key=***" in logs  # urllib3 logged the request line, the handler blanked it
    assert "page 1 (" in str(failure.value) and "not JSON" in str(failure.value)
    files = [p for p in Path(lake.zone("raw")).parent.rglob("*") if p.is_file()]
    assert files
    for text in [logs, str(failure.value), repr(result), *(p.read_bytes().decode("latin-1") for p in files)]:
        assert SECRET not in text
    assert all(r["query"].get("api_key") == SECRET for r in api.data_requests())  # it was sent, though
