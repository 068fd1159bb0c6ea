"""Authentication from the contract's `source.auth`: none, bearer, API key (header or query), HTTP basic,
OAuth2 client credentials. Secrets are resolved once, before any request, and only by reference."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from batchlake_core.contract import ApiKeyAuth, BasicAuth, BearerAuth, NoAuth, OAuth2ClientCredentials
from requests.auth import AuthBase, HTTPBasicAuth

from batchlake_ingest.errors import IngestError
from batchlake_ingest.secret_refs import redact, remember_secret, resolve_secret


class BearerTokenAuth(AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self._token}"
        return r


class ApiKeyHeaderAuth(AuthBase):
    def __init__(self, name: str, key: str) -> None:
        self.name, self._key = name, key

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers[self.name] = self._key
        return r


class ApiKeyQueryAuth(AuthBase):
    def __init__(self, name: str, key: str) -> None:
        self.name, self._key = name, key

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.prepare_url(r.url, {self.name: self._key})
        return r


class OAuth2ClientCredentialsAuth(AuthBase):
    """Fetches an access token from `token_url` (client id and secret in an HTTP basic header, RFC 6749 2.3.1),
    caches it until shortly before `expires_in`, and is thread-safe. `invalidate()` forces a new token (after 401)."""

    refresh_margin_seconds = 60.0

    def __init__(
        self, token_url: str, client_id: str, client_secret: str, scope: str | None, timeout_seconds: float
    ) -> None:
        self.token_url, self.client_id, self.scope = token_url, client_id, scope
        self._client_secret = client_secret
        self._timeout = timeout_seconds
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._token, self._expires_at = self._fetch_token()
            return self._token

    def _fetch_token(self) -> tuple[str, float]:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        try:
            reply = requests.post(
                self.token_url,
                data=form,
                auth=HTTPBasicAuth(self.client_id, self._client_secret),
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as e:
            raise IngestError(
                f"OAuth2 token endpoint {self.token_url} unreachable ({type(e).__name__}): check token_url"
            ) from None
        if reply.status_code != 200:
            raise IngestError(
                f"OAuth2 token endpoint {self.token_url} answered HTTP {reply.status_code}: "
                "check client_id, the client secret and scope"
            )
        try:
            body = reply.json()
            token = body["access_token"]
        except (ValueError, KeyError, TypeError):
            raise IngestError(f"OAuth2 token endpoint {self.token_url} gave no access_token: check token_url") from None
        remember_secret(str(token))
        expires_in = float(body["expires_in"]) if body.get("expires_in") is not None else 3600.0
        return str(token), time.monotonic() + max(expires_in - self.refresh_margin_seconds, expires_in / 2)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token()}"
        return r


def build_auth(spec: Any, timeout_seconds: float = 30.0, aws_session: Any = None) -> AuthBase | None:
    """The requests auth for a contract's `source.auth`; resolves its secret now (fails before any I/O)."""
    if isinstance(spec, NoAuth):
        return None
    if isinstance(spec, BearerAuth):
        return BearerTokenAuth(resolve_secret(spec.token, aws_session))
    if isinstance(spec, ApiKeyAuth):
        key = resolve_secret(spec.key, aws_session)
        return ApiKeyHeaderAuth(spec.name, key) if spec.location == "header" else ApiKeyQueryAuth(spec.name, key)
    if isinstance(spec, BasicAuth):
        return HTTPBasicAuth(spec.username, resolve_secret(spec.password, aws_session))
    if isinstance(spec, OAuth2ClientCredentials):
        secret = resolve_secret(spec.client_secret, aws_session)
        return OAuth2ClientCredentialsAuth(spec.token_url, spec.client_id, secret, spec.scope, timeout_seconds)
    raise IngestError(redact(f"unsupported auth type {getattr(spec, 'type', spec)!r}: use one the contract allows"))
