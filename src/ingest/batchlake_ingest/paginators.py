"""How to walk the pages of an API, one class per style, registered by name (the shape of dlt's rest_api).

A paginator sees every page (`update_state(response, data, body)`) and prepares the next request
(`update_request(request)`) while `has_next_page` is true. When it knows every remaining page after the first one
(a page count or a record total), `planned_requests(request)` lists them so the client can fetch them in parallel.

Options come from the contract's `source.paginator` (every key but `type`). Register your own style with
`register_paginator("name", MyPaginator)` and use `paginator: {type: name, ...}` in the contract.
"""

from __future__ import annotations

import copy
import importlib
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import requests

from batchlake_ingest.errors import IngestError


@dataclass
class PageRequest:
    """One GET: URL and query parameters (auth is added by the client, never stored here)."""

    url: str
    params: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> PageRequest:
        return PageRequest(self.url, dict(self.params))


_MISSING = object()


def find_path(body: Any, path: str) -> Any:
    """Value at a dot path (`meta.total`) in a JSON body; `_MISSING` when absent. Empty path = the body."""
    if not path:
        return body
    value = body
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


class BasePaginator(ABC):
    """Subclass, implement `update_state` and `update_request`, and register the class by name."""

    def __init__(self, **options: Any) -> None:
        if options:
            raise TypeError(f"unknown option(s) {', '.join(sorted(options))}")
        self.has_next_page = True

    def init_request(self, request: PageRequest) -> None:  # noqa: B027 - optional hook
        """Adjust the first request (e.g. set page=1)."""

    @abstractmethod
    def update_state(self, response: requests.Response, data: list[Any], body: Any) -> None:
        """Look at a fetched page (records `data`, parsed `body`) and decide whether there is a next one."""

    @abstractmethod
    def update_request(self, request: PageRequest) -> None:
        """Turn `request` into the request for the next page."""

    def planned_requests(self, request: PageRequest) -> list[PageRequest] | None:
        """After the first page: every remaining request if known up front (parallel fetch), else None."""
        return None


def _number(body: Any, path: str, what: str) -> int | None:
    if not path:
        return None
    value = find_path(body, path)
    if value is _MISSING or value is None:
        raise IngestError(f"page has no {what} at '{path}': fix the paginator's {what} path in the contract")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise IngestError(f"page has {what} {value!r} at '{path}', not a number: fix the paginator path") from None


class SinglePagePaginator(BasePaginator):
    def update_state(self, response: requests.Response, data: list[Any], body: Any) -> None:
        self.has_next_page = False

    def update_request(self, request: PageRequest) -> None:
        raise AssertionError("single page has no next page")

    def planned_requests(self, request: PageRequest) -> list[PageRequest] | None:
        return []


class PageNumberPaginator(BasePaginator):
    """`?page=N`. Stops at an empty page, at `total_pages_path`, or at `total_path` records / page size
    (`page_size`, else the length of the first page)."""

    def __init__(
        self,
        page_param: str = "page",
        base_page: int = 1,
        total_pages_path: str = "",
        total_path: str = "",
        page_size: int | None = None,
        maximum_page: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.page_param, self.base_page = page_param, int(base_page)
        self.total_pages_path, self.total_path = total_pages_path, total_path
        self.page_size, self.maximum_page = page_size, maximum_page
        self.page = self.base_page
        self.last_page: int | None = None  # inclusive, in the API's numbering

    def init_request(self, request: PageRequest) -> None:
        request.params[self.page_param] = self.page

    def update_state(self, response: requests.Response, data: list[Any], body: Any) -> None:
        if self.last_page is None:
            total_pages = _number(body, self.total_pages_path, "total pages")
            total = _number(body, self.total_path, "total")
            if total_pages is None and total is not None:
                # without page_size, the first page's length is the page size: if it is shorter than the
                # API's page size it is also the last page, and ceil(total / len) is then 1 as well
                size = int(self.page_size) if self.page_size else len(data)
                total_pages = math.ceil(total / size) if size else 0
            if total_pages is not None:
                self.last_page = self.base_page + total_pages - 1
            if self.maximum_page is not None:
                self.last_page = min(self.last_page or int(self.maximum_page), int(self.maximum_page))
        if not data or (self.last_page is not None and self.page >= self.last_page):
            self.has_next_page = False

    def update_request(self, request: PageRequest) -> None:
        self.page += 1
        request.params[self.page_param] = self.page

    def planned_requests(self, request: PageRequest) -> list[PageRequest] | None:
        if not self.has_next_page:
            return []
        if self.last_page is None:
            return None
        planned = []
        for page in range(self.page + 1, self.last_page + 1):
            r = request.copy()
            r.params[self.page_param] = page
            planned.append(r)
        self.page, self.has_next_page = self.last_page, False
        return planned


class OffsetPaginator(BasePaginator):
    """`?offset=N&limit=L`. Stops at an empty page or when offset reaches the total at `total_path`."""

    def __init__(
        self,
        offset_param: str = "offset",
        limit_param: str = "limit",
        limit: int | None = None,
        total_path: str = "",
        maximum_offset: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.offset_param, self.limit_param, self.limit = offset_param, limit_param, limit
        self.total_path, self.maximum_offset = total_path, maximum_offset
        self.offset = 0
        self.total: int | None = None

    def init_request(self, request: PageRequest) -> None:
        if self.limit is None:
            if self.limit_param not in request.params:
                raise IngestError(
                    f"offset paginator needs a page size: set source.params.{self.limit_param} or paginator.limit"
                )
            self.limit = int(request.params[self.limit_param])
        self.limit = int(self.limit)
        request.params[self.limit_param] = self.limit
        request.params[self.offset_param] = self.offset

    def _end(self) -> int | None:
        ends = [v for v in (self.total, self.maximum_offset) if v is not None]
        return min(ends) if ends else None

    def update_state(self, response: requests.Response, data: list[Any], body: Any) -> None:
        if self.total is None:
            self.total = _number(body, self.total_path, "total")
        end = self._end()
        if not data or (end is not None and self.offset + self.limit >= end):
            self.has_next_page = False

    def update_request(self, request: PageRequest) -> None:
        self.offset += self.limit
        request.params[self.offset_param] = self.offset

    def planned_requests(self, request: PageRequest) -> list[PageRequest] | None:
        end = self._end()
        if not self.has_next_page:
            return []
        if end is None:
            return None
        planned = []
        for offset in range(self.offset + self.limit, end, self.limit):
            r = request.copy()
            r.params[self.offset_param] = offset
            planned.append(r)
            self.offset = offset
        self.has_next_page = False
        return planned


class CursorPaginator(BasePaginator):
    """Next page token in the body (`cursor_path`), sent back as `cursor_param`. Stops when the token is empty."""

    def __init__(self, cursor_path: str = "next_cursor", cursor_param: str = "cursor", **options: Any) -> None:
        super().__init__(**options)
        self.cursor_path, self.cursor_param = cursor_path, cursor_param
        self.cursor: Any = None

    def update_state(self, response: requests.Response, data: list[Any], body: Any) -> None:
        value = find_path(body, self.cursor_path)
        self.cursor = None if value is _MISSING else value
        self.has_next_page = self.cursor not in (None, "") and bool(data)

    def update_request(self, request: PageRequest) -> None:
        request.params[self.cursor_param] = self.cursor


class NextUrlPaginator(BasePaginator):
    """Full (or relative) URL of the next page in the body at `next_url_path`. Stops when it is missing."""

    def __init__(self, next_url_path: str = "next", **options: Any) -> None:
        super().__init__(**options)
        self.next_url_path = next_url_path
        self.next_url: str | None = None

    def update_state(self, response: requests.Response, data: list[Any], body: Any) -> None:
        value = find_path(body, self.next_url_path)
        self.next_url = urljoin(response.url, value) if isinstance(value, str) and value else None
        self.has_next_page = self.next_url is not None

    def update_request(self, request: PageRequest) -> None:
        request.url, request.params = self.next_url, {}


class LinkHeaderPaginator(BasePaginator):
    """RFC 8288 `Link: <...>; rel="next"` header (GitHub style). Stops when there is no next link."""

    def __init__(self, rel: str = "next", **options: Any) -> None:
        super().__init__(**options)
        self.rel = rel
        self.next_url: str | None = None

    def update_state(self, response: requests.Response, data: list[Any], body: Any) -> None:
        link = response.links.get(self.rel, {}).get("url")
        self.next_url = urljoin(response.url, link) if link else None
        self.has_next_page = self.next_url is not None

    def update_request(self, request: PageRequest) -> None:
        request.url, request.params = self.next_url, {}


PAGINATORS: dict[str, type[BasePaginator]] = {
    "single_page": SinglePagePaginator,
    "page_number": PageNumberPaginator,
    "offset": OffsetPaginator,
    "cursor": CursorPaginator,
    "next_url": NextUrlPaginator,
    "link_header": LinkHeaderPaginator,
}


def register_paginator(name: str, cls: type[BasePaginator]) -> None:
    """Make `paginator: {type: <name>}` in a contract use `cls` (a BasePaginator subclass)."""
    if not (isinstance(cls, type) and issubclass(cls, BasePaginator)):
        raise TypeError(f"{cls!r} is not a BasePaginator subclass")
    PAGINATORS[name] = cls


def create_paginator(options: dict[str, Any]) -> BasePaginator:
    """A fresh paginator from the contract's `source.paginator` mapping (`type` + options).

    `type: custom` loads `class: "package.module:ClassName"` (a BasePaginator subclass) and registers nothing.
    """
    options = copy.deepcopy(dict(options))
    kind = options.pop("type")
    if kind == "custom":
        target = options.pop("class", None)
        if not target or ":" not in str(target):
            raise IngestError("paginator type custom needs class: 'package.module:ClassName'")
        module_name, _, attr = str(target).partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as e:
            raise IngestError(f"paginator class {target} cannot be imported ({e}): install or fix the path") from None
        if not (isinstance(cls, type) and issubclass(cls, BasePaginator)):
            raise IngestError(f"paginator class {target} is not a BasePaginator subclass")
    elif kind in PAGINATORS:
        cls = PAGINATORS[kind]
    else:
        known = ", ".join(sorted([*PAGINATORS, "custom"]))
        raise IngestError(f"unknown paginator type {kind!r}: use one of {known}, or register_paginator() yours")
    try:
        return cls(**options)
    except TypeError as e:
        raise IngestError(f"paginator {kind}: {e}: fix source.paginator in the contract") from None
