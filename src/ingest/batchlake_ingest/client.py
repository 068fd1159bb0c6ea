"""HTTP for ingestion: one GET with retries, backoff with jitter, `Retry-After`, a client-side rate limit,
a per-request timeout and a run-wide retry budget; JSON parsing and the page-shape check.

Retried: connection errors, timeouts, broken bodies, HTTP 429 and 5xx, and a 2xx body that does not parse as JSON
(a body cut short in transit looks exactly like that; one that stays unparsable fails the run after the last
attempt, naming the page). Not retried (a user can fix them): other 4xx, a body that is not the shape the contract
declares.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import requests
from batchlake_core.contract import RetrySpec, SourceSpec
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from batchlake_ingest import __version__
from batchlake_ingest.auth import OAuth2ClientCredentialsAuth
from batchlake_ingest.errors import IngestError
from batchlake_ingest.paginators import _MISSING, PageRequest, find_path
from batchlake_ingest.secret_refs import redact

log = logging.getLogger(__name__)
USER_AGENT = f"batchlake-ingest/{__version__}"
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class RateLimiter:
    """At most `per_second` request starts per second across all threads (evenly spaced)."""

    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


class RetryBudget:
    """Time the whole run may spend waiting between retries, shared by every thread."""

    def __init__(self, spec: RetrySpec) -> None:
        self.spec = spec
        self.spent = 0.0
        self.retries = 0
        self._lock = threading.Lock()

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, initial * 2**attempt)] (AWS architecture blog's recommendation)."""
        ceiling = min(self.spec.backoff_max_seconds, self.spec.backoff_initial_seconds * (2**attempt))
        return random.uniform(0, ceiling)

    def take(self, seconds: float) -> bool:
        """Reserve `seconds` of waiting; False when the budget would be exceeded."""
        with self._lock:
            if self.spent + seconds > self.spec.total_budget_seconds:
                return False
            self.spent += seconds
            self.retries += 1
            return True


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def safe_url(url: str, params: dict[str, Any] | None = None, hide: tuple[str, ...] = ()) -> str:
    """URL with its query for messages: parameters named in `hide` (API key in the query) and secrets blanked."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, str(v)) for k, v in (params or {}).items()]
    query = [(k, "***" if k in hide else v) for k, v in query]
    return redact(urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, safe=":/,"), "")))


@dataclass
class Page:
    """One fetched page. `number` counts pages in the order they are written (1-based)."""

    number: int
    url: str  # safe to print: no secrets
    response: requests.Response
    body: Any
    records: list[dict[str, Any]]


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


class _NotJson(_Retryable):
    """A 2xx answer whose body does not parse: cut short in transit (retried), or not JSON at all."""


class RestClient:
    """Fetches pages for one source. Thread-safe: each thread gets its own `requests.Session`."""

    def __init__(self, source: SourceSpec, auth: AuthBase | None, base_url: str | None = None) -> None:
        self.source = source
        self.auth = auth
        self.base_url = (base_url or source.resolved_base_url()).rstrip("/")
        self.url = f"{self.base_url}/{source.path.lstrip('/')}"
        self.rate_limiter = RateLimiter(source.rate_limit_per_second)
        self.budget = RetryBudget(source.retry)
        self.hidden_params = (source.auth.name,) if getattr(source.auth, "location", None) == "query" else ()
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self.requests_made = 0
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop retrying: requests in flight in other threads give up at their next retry."""
        self._cancelled.set()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json", **self.source.headers})
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=2, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def first_request(self, extra_params: dict[str, Any]) -> PageRequest:
        return PageRequest(self.url, {**self.source.params, **extra_params})

    def fetch(self, request: PageRequest, number: int) -> Page:
        """GET one page with retries, parse it, check its shape. Raises IngestError with one line naming the page."""
        where = f"page {number} ({safe_url(request.url, request.params, self.hidden_params)})"
        response, body = self._get_with_retries(request, where)
        records = find_path(body, self.source.records_path)
        if records is _MISSING or not isinstance(records, list):
            found = "nothing" if records is _MISSING else type(records).__name__
            at = f"'{self.source.records_path}'" if self.source.records_path else "the top level"
            raise IngestError(f"{where}: expected a list of records at {at} but found {found}: fix source.records_path")
        if any(type(r) is not dict for r in records):
            raise IngestError(f"{where}: records must be JSON objects: fix source.records_path")
        return Page(number, safe_url(response.url, hide=self.hidden_params), response, body, records)

    def _get_with_retries(self, request: PageRequest, where: str) -> tuple[requests.Response, Any]:
        """The response and its parsed JSON body."""
        spec = self.source.retry
        attempt = 0
        refreshed_token = False
        while True:
            try:
                return self._get_once(request, where)
            except _Retryable as e:
                attempt += 1
                if attempt >= spec.max_attempts:
                    if isinstance(e, _NotJson):
                        raise IngestError(
                            f"{where}: {e.reason}; gave up after {attempt} attempts: "
                            "check the URL and that the API returns JSON"
                        ) from None
                    raise IngestError(
                        f"{where}: gave up after {attempt} attempts ({e.reason}): check the API is up, "
                        "or raise source.retry.max_attempts"
                    ) from None
                delay = e.retry_after if e.retry_after is not None else self.budget.backoff(attempt - 1)
                if not self.budget.take(delay):
                    raise IngestError(
                        f"{where}: retry budget of {spec.total_budget_seconds:g}s used up ({e.reason}): "
                        "check the API, or raise source.retry.total_budget_seconds"
                    ) from None
                fields = {"page": where, "reason": e.reason, "attempt": attempt, "wait_s": round(delay, 3)}
                log.warning("retrying", extra={"fields": fields})
                if self._cancelled.wait(delay):
                    raise IngestError(f"{where}: cancelled because another page failed") from None
            except _Unauthorized:
                if isinstance(self.auth, OAuth2ClientCredentialsAuth) and not refreshed_token:
                    refreshed_token = True  # the token may have expired early: fetch a new one, once
                    self.auth.invalidate()
                    continue
                raise IngestError(f"{where}: HTTP 401 Unauthorized: check the credentials in source.auth") from None

    def _get_once(self, request: PageRequest, where: str) -> tuple[requests.Response, Any]:
        self.rate_limiter.wait()
        with self._sessions_lock:
            self.requests_made += 1
        try:
            response = self._session().get(
                request.url, params=request.params, auth=self.auth, timeout=self.source.timeout_seconds
            )
            response.content  # noqa: B018 - read the whole body now so a broken body is retried here
        except requests.Timeout:
            raise _Retryable(f"timeout after {self.source.timeout_seconds:g}s") from None
        except requests.ConnectionError as e:
            raise _Retryable(_connection_reason(e)) from None
        except requests.RequestException as e:  # ChunkedEncodingError, ContentDecodingError, ...
            raise _Retryable(type(e).__name__) from None
        status = response.status_code
        if status in RETRY_STATUS:
            raise _Retryable(f"HTTP {status}", parse_retry_after(response.headers.get("Retry-After")))
        if status == 401:
            raise _Unauthorized()
        if status >= 400:
            raise IngestError(f"{where}: HTTP {status} {response.reason}: {_fix_for(status)}")
        try:
            return response, orjson.loads(response.content)
        except orjson.JSONDecodeError as e:
            raise _NotJson(f"response is not JSON ({e.msg} at byte {e.pos} of {len(response.content)})") from None


class _Unauthorized(Exception):
    pass


def _connection_reason(e: requests.ConnectionError) -> str:
    text = str(e)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "NameResolutionError" in text:
        return "host name not found"
    return "connection error"


def _fix_for(status: int) -> str:
    return {
        400: "check source.params and the incremental request parameter",
        403: "the credentials in source.auth lack permission for this endpoint",
        404: "check source.base_url and source.path",
        405: "the endpoint does not accept GET: check source.path",
        410: "the endpoint is gone: check source.path",
    }.get(status, "check the request in the contract's source section")
