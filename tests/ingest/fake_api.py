"""A small REST API on 127.0.0.1 for ingestion tests: every pagination style, every auth type, faults on demand.

Runs `http.server.ThreadingHTTPServer` in a thread. Records are `{"id", "updated_at", "name"}` sorted by
(updated_at, id); `updated_since` filters inclusively, like most APIs (and the demo API).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


def make_records(n: int, start_id: int = 1, seconds_apart: int = 60, base: datetime = BASE_TIME) -> list[dict]:
    return [
        {
            "id": i,
            "updated_at": (base + timedelta(seconds=seconds_apart * (i - start_id))).isoformat().replace("+00:00", "Z"),
            "name": f"item {i}",
        }
        for i in range(start_id, start_id + n)
    ]


@dataclass
class Fault:
    """Answer one request with this instead of data."""

    status: int = 503
    body: bytes = b'{"error": "injected"}'
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0  # sleep first (a timeout when longer than the client's)
    truncate: bool = False  # serve the real page, cut in half, with status 200


@dataclass
class ApiConfig:
    style: str = "page"  # page | offset | cursor | next_url | link | list
    page_size: int = 10
    auth: str = "none"  # none | bearer | api_key_header | api_key_query | basic | oauth2
    secret: str = "s3cr3t-value-42"
    username: str = "reader"
    client_id: str = "client-1"
    token_lifetime: int = 3600
    faults: list[Fault] = field(default_factory=list)  # served first, one per data request
    page_delays: dict[int, float] = field(default_factory=dict)  # page number -> delay (parallel ordering tests)
    include_totals: bool = True


class FakeApi:
    def __init__(self, records: list[dict] | None = None) -> None:
        self.records = records if records is not None else make_records(95)
        self.config = ApiConfig()
        self.requests: list[dict[str, Any]] = []
        self.tokens_issued: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with api.lock:
                    api.in_flight += 1
                    api.max_in_flight = max(api.max_in_flight, api.in_flight)
                try:
                    api.handle(self)
                finally:
                    with api.lock:
                        api.in_flight -= 1

            def do_POST(self) -> None:
                api.handle_token(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- helpers -------------------------------------------------------------------------------------------

    def data_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == "/items"]

    @staticmethod
    def send(h: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def authorized(self, h: BaseHTTPRequestHandler, query: dict[str, str]) -> bool:
        c = self.config
        auth_header = h.headers.get("Authorization", "")
        if c.auth == "none":
            return True
        if c.auth == "bearer":
            return auth_header == f"Bearer {c.secret}"
        if c.auth == "api_key_header":
            return h.headers.get("X-Api-Key") == c.secret
        if c.auth == "api_key_query":
            return query.get("api_key") == c.secret
        if c.auth == "basic":
            return auth_header == "Basic " + base64.b64encode(f"{c.username}:{c.secret}".encode()).decode()
        if c.auth == "oauth2":
            return auth_header.startswith("Bearer ") and auth_header[7:] in self.tokens_issued[-1:]
        raise AssertionError(c.auth)

    def handle_token(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length", 0))
        form = parse_qs(h.rfile.read(length).decode())
        expected = "Basic " + base64.b64encode(f"{self.config.client_id}:{self.config.secret}".encode()).decode()
        with self.lock:
            self.requests.append({"path": urlsplit(h.path).path, "query": {}, "form": form})
        if h.headers.get("Authorization") != expected or form.get("grant_type") != ["client_credentials"]:
            self.send(h, 401, b'{"error": "invalid_client"}')
            return
        token = f"token-{len(self.tokens_issued) + 1}-abcdef"
        self.tokens_issued.append(token)
        body = {"access_token": token, "token_type": "bearer", "expires_in": self.config.token_lifetime}
        self.send(h, 200, json.dumps(body).encode())

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append(
                {"path": parts.path, "query": query, "headers": dict(h.headers), "t": time.monotonic()}
            )
            fault = self.config.faults.pop(0) if self.config.faults and parts.path == "/items" else None
        if parts.path != "/items":
            self.send(h, 404, b'{"error": "not found"}')
            return
        if fault and fault.delay_seconds:
            time.sleep(fault.delay_seconds)
        if fault and not fault.truncate:
            self.send(h, fault.status, fault.body, fault.headers)
            return
        if not self.authorized(h, query):
            self.send(h, 401, b'{"error": "unauthorized"}')
            return
        status, body, headers = self.page(query)
        if fault and fault.truncate:
            body = body[: len(body) // 2]
        self.send(h, status, body, headers)

    def page(self, q: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        c = self.config
        rows = self.records
        if "updated_since" in q:
            since = datetime.fromisoformat(q["updated_since"])
            rows = [r for r in rows if "updated_at" not in r or datetime.fromisoformat(r["updated_at"]) >= since]
        size = int(q.get("per_page") or q.get("limit") or c.page_size)
        total = len(rows)
        headers: dict[str, str] = {}
        if c.style in ("page", "list"):
            page = int(q.get("page", 1))
            delay = c.page_delays.get(page)
            if delay:
                time.sleep(delay)
            start = (page - 1) * size
        elif c.style == "offset":
            start = int(q.get("offset", 0))
        else:  # cursor, next_url, link: an opaque position
            start = int(q.get("cursor") or q.get("after") or 0)
        chunk = rows[start : start + size]
        end = start + len(chunk)
        more = end < total
        if c.style == "page":
            meta = {"total_pages": -(-total // size), "total": total} if c.include_totals else {}
            return 200, json.dumps({"data": chunk, "meta": meta}).encode(), headers
        if c.style == "list":
            return 200, json.dumps(chunk).encode(), headers
        if c.style == "offset":
            meta = {"total": total} if c.include_totals else {}
            return 200, json.dumps({"data": chunk, "meta": meta}).encode(), headers
        if c.style == "cursor":
            body = {"data": chunk, "paging": {"next": str(end) if more else None}}
            return 200, json.dumps(body).encode(), headers
        follow = {k: v for k, v in q.items() if k not in ("cursor", "after", "api_key")}
        follow["after"] = str(end)
        next_url = f"/items?{urlencode(follow)}" if more else None
        if c.style == "next_url":
            return 200, json.dumps({"results": chunk, "next": next_url}).encode(), headers
        if c.style == "link":
            if next_url:
                headers["Link"] = f'<{self.url}{next_url}>; rel="next", <{self.url}/items>; rel="first"'
            return 200, json.dumps(chunk).encode(), headers
        raise AssertionError(c.style)
