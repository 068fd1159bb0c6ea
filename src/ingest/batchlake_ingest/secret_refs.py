"""Secrets by reference only: an environment variable locally, AWS Secrets Manager or SSM Parameter Store on AWS.

Every resolved value is remembered (in this process only) so that `redact()` can blank it out of any text that
leaves the process: log lines, error messages, manifests and reports.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any
from urllib.parse import quote, quote_plus

from batchlake_core.contract import SecretRef

from batchlake_ingest.errors import IngestError

REDACTED = "***"
_MIN_SECRET_LENGTH = 4  # shorter values would blank out ordinary words; such secrets are rejected outright
_known: set[str] = set()
_lock = threading.Lock()


def remember_secret(value: str) -> None:
    """Make `redact()` blank out `value` and its URL-encoded forms from now on."""
    with _lock:
        _known.update({value, quote(value, safe=""), quote_plus(value)})


def redact(text: str) -> str:
    """`text` with every secret resolved in this process replaced by ***."""
    if not _known or not text:
        return text
    with _lock:
        secrets = sorted(_known, key=len, reverse=True)
    for value in secrets:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def describe(ref: SecretRef) -> str:
    """Where a secret comes from, for messages (never the value)."""
    if ref.env:
        where = f"environment variable {ref.env}"
    elif ref.secrets_manager:
        where = f"AWS Secrets Manager secret {ref.secrets_manager}"
    else:
        where = f"SSM parameter {ref.ssm_parameter}"
    return f"{where} (key {ref.json_key})" if ref.json_key else where


def resolve_secret(ref: SecretRef, aws_session: Any = None) -> str:
    """The secret's value. Any problem raises IngestError naming the reference and the fix, never the value."""
    if ref.env:
        value = os.environ.get(ref.env)
        if not value:
            raise IngestError(f"environment variable {ref.env} is not set: export it with the secret before ingesting")
    else:
        value = _from_aws(ref, aws_session)
    if ref.json_key:
        value = _json_key(ref, value)
    if len(value) < _MIN_SECRET_LENGTH:
        raise IngestError(f"{describe(ref)} is shorter than {_MIN_SECRET_LENGTH} characters: store the full secret")
    remember_secret(value)
    return value


def _json_key(ref: SecretRef, value: str) -> str:
    try:
        data = json.loads(value)
    except ValueError:
        remember_secret(value)
        raise IngestError(f"{describe(ref)} is not a JSON object: store JSON or drop json_key") from None
    if not isinstance(data, dict) or ref.json_key not in data:
        remember_secret(value)
        raise IngestError(f"{describe(ref)} has no key {ref.json_key!r}: add it or fix json_key in the contract")
    return str(data[ref.json_key])


def _from_aws(ref: SecretRef, aws_session: Any) -> str:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = aws_session or boto3.session.Session()
    try:
        if ref.secrets_manager:
            reply = session.client("secretsmanager").get_secret_value(SecretId=ref.secrets_manager)
            if "SecretString" not in reply:
                raise IngestError(f"{describe(ref)} is binary: store it as a secret string")
            return reply["SecretString"]
        reply = session.client("ssm").get_parameter(Name=ref.ssm_parameter, WithDecryption=True)
        return reply["Parameter"]["Value"]
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "error")
        action = "secretsmanager:GetSecretValue" if ref.secrets_manager else "ssm:GetParameter"
        raise IngestError(
            f"cannot read {describe(ref)} ({code}): check that it exists in this region and the role may {action}"
        ) from None
    except BotoCoreError as e:
        name = type(e).__name__
        raise IngestError(f"cannot read {describe(ref)} ({name}): check AWS credentials and region") from None
