"""Every paginator over a real local HTTP server: records complete, in order, and the right stop condition."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from batchlake_ingest.errors import IngestError
from batchlake_ingest.paginators import BasePaginator, PageRequest, create_paginator, register_paginator
from batchlake_ingest.pipeline import ingest_dataset

from .conftest import make_contract, read_raw
from .fake_api import FakeApi


@pytest.mark.parametrize("concurrency", [1, 3])
def test_page_number_with_total_pages_fetches_every_page_in_parallel_and_in_order(api, lake, concurrency) -> None:
    api.config.page_delays = {p: 0.1 for p in range(2, 11)} | {2: 0.3, 3: 0.2}  # later pages finish first
    result = ingest_dataset(make_contract(api.url, concurrency=concurrency), lake, "r1", progress=False)
    assert api.max_in_flight == concurrency  # parallel, and never more than the contract allows
    assert read_raw(lake) == api.records
    assert (result.records, result.pages, result.files) == (95, 10, 1)
    pages = [int(r["query"]["page"]) for r in api.data_requests()]
    assert sorted(pages) == list(range(1, 11))  # exactly the 10 pages, no probe past the end


def test_page_number_without_total_stops_at_the_empty_page(api: FakeApi, lake) -> None:
    api.config.include_totals = False
    contract = make_contract(api.url, paginator={"type": "page_number"})
    result = ingest_dataset(contract, lake, "r1", progress=False)
    assert read_raw(lake) == api.records
    assert [int(r["query"]["page"]) for r in api.data_requests()] == list(range(1, 12))
    assert result.pages == 11


@pytest.mark.parametrize("page_size", [{"page_size": 10}, {}])
def test_page_number_total_records_give_the_page_count(api: FakeApi, lake, page_size) -> None:
    contract = make_contract(api.url, paginator={"type": "page_number", "total_path": "meta.total", **page_size})
    ingest_dataset(contract, lake, "r1", progress=False)
    assert read_raw(lake) == api.records
    assert len(api.data_requests()) == 10


def test_offset_with_total(api: FakeApi, lake) -> None:
    api.config.style = "offset"
    contract = make_contract(
        api.url,
        params={"limit": 7},
        paginator={"type": "offset", "offset_param": "offset", "limit_param": "limit", "total_path": "meta.total"},
        concurrency=3,
    )
    ingest_dataset(contract, lake, "r1", progress=False)
    assert read_raw(lake) == api.records
    offsets = sorted(int(r["query"]["offset"]) for r in api.data_requests())
    assert offsets == list(range(0, 95, 7))


def test_offset_without_total_stops_at_the_empty_page(api: FakeApi, lake) -> None:
    api.config.style = "offset"
    api.config.include_totals = False
    contract = make_contract(api.url, params={"limit": 50}, paginator={"type": "offset"})
    ingest_dataset(contract, lake, "r1", progress=False)
    assert read_raw(lake) == api.records
    assert [int(r["query"]["offset"]) for r in api.data_requests()] == [0, 50, 100]


def test_cursor_in_body(api: FakeApi, lake) -> None:
    api.config.style = "cursor"
    contract = make_contract(
        api.url, paginator={"type": "cursor", "cursor_path": "paging.next", "cursor_param": "cursor"}
    )
    result = ingest_dataset(contract, lake, "r1", progress=False)
    assert read_raw(lake) == api.records
    assert [r["query"].get("cursor") for r in api.data_requests()] == [None, *[str(i) for i in range(10, 95, 10)]]
    assert result.pages == 10


def test_next_url_in_body_relative(api: FakeApi, lake) -> None:
    api.config.style = "next_url"
    contract = make_contract(api.url, records_path="results", paginator={"type": "next_url", "next_url_path": "next"})
    ingest_dataset(contract, lake, "r1", progress=False)
    assert read_raw(lake) == api.records
    assert len(api.data_requests()) == 10
    assert all(r["query"]["per_page"] == "10" for r in api.data_requests())  # kept by the next URL


def test_link_header(api: FakeApi, lake) -> None:
    api.config.style = "link"
    contract = make_contract(api.url, records_path="", paginator={"type": "link_header"})
    result = ingest_dataset(contract, lake, "r1", progress=False)
    assert read_raw(lake) == api.records
    assert result.pages == 10


def test_single_page(api: FakeApi, lake) -> None:
    api.config.style = "list"
    contract = make_contract(api.url, records_path="", params={"per_page": 1000}, paginator={"type": "single_page"})
    ingest_dataset(contract, lake, "r1", progress=False)
    assert read_raw(lake) == api.records
    assert len(api.data_requests()) == 1


class EveryOtherPagePaginator(BasePaginator):
    """A custom style: asks for pages 1, 3, 5, ... and stops at an empty one."""

    def __init__(self, step: int = 2, **options: Any) -> None:
        super().__init__(**options)
        self.step, self.page = int(step), 1

    def init_request(self, request: PageRequest) -> None:
        request.params["page"] = self.page

    def update_state(self, response: requests.Response, data: list[Any], body: Any) -> None:
        self.has_next_page = bool(data)

    def update_request(self, request: PageRequest) -> None:
        self.page += self.step
        request.params["page"] = self.page


def test_custom_paginator_registered_by_name(api: FakeApi, lake) -> None:
    register_paginator("every_other_page", EveryOtherPagePaginator)
    contract = make_contract(api.url, paginator={"type": "every_other_page", "step": 2})
    ingest_dataset(contract, lake, "r1", progress=False)
    expected = [r for r in api.records if ((r["id"] - 1) // 10) % 2 == 0]
    assert read_raw(lake) == expected
    assert [int(r["query"]["page"]) for r in api.data_requests()] == [1, 3, 5, 7, 9, 11]


def test_custom_paginator_by_import_path(api: FakeApi, lake) -> None:
    contract = make_contract(api.url, paginator={"type": "custom", "class": f"{__name__}:EveryOtherPagePaginator"})
    ingest_dataset(contract, lake, "r1", progress=False)
    assert [r["id"] for r in read_raw(lake)][:12] == [*range(1, 11), 21, 22]


def test_unknown_paginator_type_and_option_are_one_line_errors() -> None:
    with pytest.raises(IngestError, match=r"unknown paginator type 'pages': use one of .*cursor"):
        create_paginator({"type": "pages"})
    with pytest.raises(IngestError, match=r"paginator page_number: unknown option.s. page_parm: fix source.paginator"):
        create_paginator({"type": "page_number", "page_parm": "p"})


def test_records_per_file_splits_parts_at_exact_record_counts(api: FakeApi, lake) -> None:
    result = ingest_dataset(make_contract(api.url, records_per_file=25), lake, "r1", progress=False)
    assert read_raw(lake) == api.records
    assert result.files == 4
