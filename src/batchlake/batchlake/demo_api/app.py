"""The demo shop API as an ASGI app (starlette): /orders and /customers with every common pagination style,
`updated_since` filtering, rate limiting, switchable fault injection and admin endpoints for tests.

Everything runs on the event loop thread (page generation is CPU-bound; threads would not help under the GIL), so
a mutation never interleaves with the generation of a page.
"""

from __future__ import annotations

import asyncio
import base64
import math
import time
from collections import Counter, OrderedDict
from dataclasses import asdict, dataclass, field
from urllib.parse import urlencode

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from batchlake.demo_api.data import MASK64, Dataset, _mix_int, parse_timestamp

MAX_PAGE_SIZE = 5000
DEFAULT_PAGE_SIZE = 100
RESOURCES = ("orders", "customers")
ERROR_CODES = (500, 502, 503)
PAGINATION_PARAMS = ("page", "per_page", "offset", "limit", "cursor", "paginate")


class Faults(BaseModel):
    """Fault injection settings; every decision is a hash of (seed, request number), so runs are reproducible."""

    model_config = ConfigDict(extra="forbid")
    error_rate: float = Field(0.0, ge=0, le=1, description="fraction of data requests answered 500/502/503")
    error_burst: int = Field(1, ge=1, le=1000, description="errors come in runs of this many consecutive requests")
    slow_rate: float = Field(0.0, ge=0, le=1, description="fraction of data requests delayed by slow_seconds")
    slow_seconds: float = Field(2.0, ge=0, le=600)
    truncate_rate: float = Field(0.0, ge=0, le=1, description="fraction answered 200 with the body cut in half")
    seed: int = 0


class MutateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    changed_fraction: float = Field(0.01, ge=0, le=1)
    new_fraction: float = Field(0.0, ge=0, le=10)
    recent_days: float | None = Field(None, gt=0)
    seed: int = 1


@dataclass
class DemoApiOptions:
    """Everything that shapes the API's answers. Same options -> same bytes."""

    orders: int = 100_000
    customers: int = 20_000
    seed: int = 42
    max_rps: float | None = None
    error_rate: float = 0.0
    error_burst: int = 1
    slow_rate: float = 0.0
    slow_seconds: float = 2.0
    truncate_rate: float = 0.0
    fault_seed: int = 0
    cache_mb: int = 256

    def faults(self) -> Faults:
        return Faults(
            error_rate=self.error_rate,
            error_burst=self.error_burst,
            slow_rate=self.slow_rate,
            slow_seconds=self.slow_seconds,
            truncate_rate=self.truncate_rate,
            seed=self.fault_seed,
        )


class BadRequest(Exception):
    pass


class RateLimiter:
    """Token bucket: `rate` requests per second, bursts up to one second's worth."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.tokens = max(rate or 0, 1.0)
        self.last = time.monotonic()

    def retry_after(self) -> int | None:
        """None if the request may proceed, else whole seconds to wait (RFC 9110 Retry-After)."""
        if not self.rate:
            return None
        now = time.monotonic()
        self.tokens = min(max(self.rate, 1.0), self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return max(1, math.ceil((1 - self.tokens) / self.rate))


class PageCache:
    """Bounded LRU of encoded `data` arrays, keyed by (resource, dataset generation, start, end)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.entries: OrderedDict[tuple, bytes] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> bytes | None:
        value = self.entries.get(key)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        self.entries.move_to_end(key)
        return value

    def put(self, key: tuple, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        self.entries[key] = value
        self.bytes += len(value)
        while self.bytes > self.max_bytes:
            _, old = self.entries.popitem(last=False)
            self.bytes -= len(old)

    def clear(self) -> None:
        self.entries.clear()
        self.bytes = 0


def encode_cursor(key: int) -> str:
    updated, record_id = key >> 32, key & 0xFFFFFFFF
    return base64.urlsafe_b64encode(f"v1:{updated}:{record_id}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> int:
    try:
        version, updated, record_id = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().split(":")
        if version != "v1":
            raise ValueError(version)
        return (int(updated) << 32) | int(record_id)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest("invalid cursor: pass back the meta.next_cursor of the previous page unchanged") from e


def _int_param(params, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {raw!r}") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise BadRequest(f"{name} must be {bound}, got {value}")
    return value


@dataclass
class PageRequest:
    style: str  # page | offset | cursor
    limit: int
    page: int = 1
    offset: int = 0
    cursor: int | None = None
    updated_since: int | None = None


def parse_page_request(params) -> PageRequest:
    paginate = params.get("paginate")
    if paginate is not None and paginate not in ("page", "offset", "cursor"):
        raise BadRequest(f"paginate must be page, offset or cursor, got {paginate!r}")
    given = {name for name in ("page", "per_page", "offset", "limit", "cursor") if name in params}
    if "cursor" in given or paginate == "cursor":
        style = "cursor"
    elif given & {"page", "per_page"} or paginate == "page":
        style = "page"
    elif given & {"offset", "limit"} or paginate == "offset":
        style = "offset"
    else:
        style = "page"
    allowed = {"page": {"page", "per_page"}, "offset": {"offset", "limit"}, "cursor": {"cursor", "limit"}}[style]
    if given - allowed:
        raise BadRequest(
            f"{', '.join(sorted(given - allowed))} cannot be combined with {style} pagination: "
            "use page+per_page, offset+limit, or cursor+limit"
        )
    since = params.get("updated_since")
    updated_since = None
    if since is not None:
        try:
            updated_since = parse_timestamp(since)
        except ValueError:
            raise BadRequest(
                f"updated_since must be an ISO 8601 timestamp like 2025-06-01T00:00:00Z, got {since!r}"
            ) from None
    if style == "page":
        per_page = _int_param(params, "per_page", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        return PageRequest("page", per_page, page=_int_param(params, "page", 1, 1), updated_since=updated_since)
    limit = _int_param(params, "limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    if style == "offset":
        return PageRequest("offset", limit, offset=_int_param(params, "offset", 0, 0), updated_since=updated_since)
    raw_cursor = params.get("cursor") or ""
    cursor = decode_cursor(raw_cursor) if raw_cursor else None
    return PageRequest("cursor", limit, cursor=cursor, updated_since=updated_since)


@dataclass
class ApiState:
    options: DemoApiOptions
    dataset: Dataset
    faults: Faults
    limiter: RateLimiter
    cache: PageCache
    data_requests: int = 0
    by_status: Counter = field(default_factory=Counter)
    by_path: Counter = field(default_factory=Counter)
    faults_injected: Counter = field(default_factory=Counter)

    def count(self, path: str, status: int) -> None:
        self.by_status[str(status)] += 1
        self.by_path[path] += 1


def _json(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _fraction(seed: int, n: int, salt: int) -> float:
    return (_mix_int((seed * 1_000_003 + n * 8 + salt) & MASK64) >> 11) / (1 << 53)


def create_app(options: DemoApiOptions | None = None) -> Starlette:
    options = options or DemoApiOptions()
    state = ApiState(
        options=options,
        dataset=Dataset(options.orders, options.customers, options.seed),
        faults=options.faults(),
        limiter=RateLimiter(options.max_rps),
        cache=PageCache(options.cache_mb * 1024 * 1024),
    )

    def render_page(resource: str, request: Request) -> Response:
        req = parse_page_request(request.query_params)
        dataset = state.dataset
        keys = dataset.sorted_keys(resource)
        n = len(keys)
        low = 0 if req.updated_since is None else int(np.searchsorted(keys, req.updated_since << 32, side="left"))
        total = n - low
        if req.style == "page":
            start = low + (req.page - 1) * req.limit
        elif req.style == "offset":
            start = low + req.offset
        else:
            start = low if req.cursor is None else max(low, int(np.searchsorted(keys, req.cursor, side="right")))
        start = min(start, n)
        end = min(start + req.limit, n)
        cache_key = (resource, dataset.generation, start, end)
        data = state.cache.get(cache_key)
        if data is None:
            ids = (keys[start:end] & 0xFFFFFFFF).astype(np.int64)
            data = dataset.encode(resource, ids)
            state.cache.put(cache_key, data)
        next_cursor = encode_cursor(int(keys[end - 1])) if end > start and end < n else None
        next_url = None
        if end < n and end > start:
            # the caller's other parameters (e.g. updated_since) first, then the pagination ones in a fixed order
            query = {k: v for k, v in request.query_params.items() if k not in PAGINATION_PARAMS}
            if req.style == "page":
                query.update(page=str(req.page + 1), per_page=str(req.limit))
            elif req.style == "offset":
                query.update(offset=str(req.offset + req.limit), limit=str(req.limit))
            else:
                query.update(cursor=next_cursor, limit=str(req.limit))
            next_url = str(request.url.replace(query=urlencode(query)))
        meta = {
            "page": (start - low) // req.limit + 1,
            "per_page": req.limit,
            "offset": start - low,
            "limit": req.limit,
            "total": total,
            "total_pages": math.ceil(total / req.limit),
            "next_cursor": next_cursor,
        }
        body = b"".join(
            (b'{"data":', data, b',"meta":', orjson.dumps(meta), b',"links":', orjson.dumps({"next": next_url}), b"}")
        )
        headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else None
        return Response(body, media_type="application/json", headers=headers)

    async def list_records(request: Request) -> Response:
        resource = request.url.path.strip("/")
        response = await _list_records(resource, request)
        state.count(request.url.path, response.status_code)
        return response

    async def _list_records(resource: str, request: Request) -> Response:
        wait = state.limiter.retry_after()
        if wait is not None:
            state.faults_injected["rate_limited"] += 1
            return _json(
                {"error": f"rate limit of {state.limiter.rate:g} requests/s exceeded: retry after {wait} s"},
                429,
                {"Retry-After": str(wait)},
            )
        n = state.data_requests
        state.data_requests += 1
        faults = state.faults
        if faults.error_rate and _fraction(faults.seed, n // faults.error_burst, 1) < faults.error_rate:
            code = ERROR_CODES[_mix_int(faults.seed * 31 + n) % len(ERROR_CODES)]
            state.faults_injected[f"error_{code}"] += 1
            return _json({"error": f"injected fault: HTTP {code}"}, code)
        try:
            response = render_page(resource, request)
        except BadRequest as e:
            return _json({"error": str(e)}, 400)
        if faults.slow_rate and _fraction(faults.seed, n, 2) < faults.slow_rate:
            state.faults_injected["slow"] += 1
            await asyncio.sleep(faults.slow_seconds)
        if faults.truncate_rate and _fraction(faults.seed, n, 3) < faults.truncate_rate:
            state.faults_injected["truncated"] += 1
            body = response.body
            response = Response(body[: len(body) // 2], media_type="application/json")
        return response

    async def health(request: Request) -> Response:
        return _json(
            {
                "status": "ok",
                "orders": state.dataset.n_orders,
                "customers": state.dataset.n_customers,
                "seed": state.dataset.seed,
                "generation": state.dataset.generation,
            }
        )

    async def read_json(request: Request, model: type[BaseModel]) -> BaseModel:
        raw = await request.body()
        try:
            return model.model_validate_json(raw or b"{}")
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'body'}: {err['msg']}" for err in e.errors())
            raise BadRequest(f"invalid JSON body: {problems}") from None

    async def faults_endpoint(request: Request) -> Response:
        if request.method == "POST":
            try:
                state.faults = await read_json(request, Faults)
            except BadRequest as e:
                return _json({"error": str(e)}, 400)
        return _json(state.faults.model_dump())

    async def mutate(request: Request) -> Response:
        try:
            body = await read_json(request, MutateRequest)
        except BadRequest as e:
            return _json({"error": str(e)}, 400)
        result = state.dataset.mutate(body.changed_fraction, body.new_fraction, body.recent_days, body.seed)
        state.cache.clear()
        return _json(result)

    async def stats(request: Request) -> Response:
        return _json(
            {
                "requests": sum(state.by_status.values()),
                "by_status": dict(state.by_status),
                "by_path": dict(state.by_path),
                "faults_injected": dict(state.faults_injected),
                "page_cache": {
                    "hits": state.cache.hits,
                    "misses": state.cache.misses,
                    "bytes": state.cache.bytes,
                    "entries": len(state.cache.entries),
                },
                "options": asdict(state.options),
            }
        )

    async def reset(request: Request) -> Response:
        """Initial data, the start-up faults and rate limit, zeroed counters."""
        state.dataset.reset()
        state.cache.clear()
        state.faults = state.options.faults()
        state.limiter = RateLimiter(state.options.max_rps)
        state.data_requests = 0
        for counter in (state.by_status, state.by_path, state.faults_injected):
            counter.clear()
        return await health(request)

    routes = [
        Route("/orders", list_records, methods=["GET"]),
        Route("/customers", list_records, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/_admin/faults", faults_endpoint, methods=["GET", "POST"]),
        Route("/_admin/mutate", mutate, methods=["POST"]),
        Route("/_admin/stats", stats, methods=["GET"]),
        Route("/_admin/reset", reset, methods=["POST"]),
    ]

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _json({"error": f"{exc.detail}: {request.method} {request.url.path}"}, exc.status_code)

    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.api = state
    return app


__all__ = ["DemoApiOptions", "Faults", "create_app"]
