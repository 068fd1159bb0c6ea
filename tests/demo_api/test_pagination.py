"""Every pagination style walks every record exactly once, in (updated_at, id) order; filters and bad input."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

ID = {"orders": "order_id", "customers": "customer_id"}
ORDERS, CUSTOMERS = 1_200, 150  # the sizes conftest.py starts the API with
SIZE = {"orders": ORDERS, "customers": CUSTOMERS}


def walk(url: str, resource: str, style: str, size: int = 70, **params) -> list[dict]:
    """All records, following the given style the way a client would."""
    records, pages = [], 0
    if style == "page":
        first = {"page": 1, "per_page": size}
    elif style == "offset":
        first = {"offset": 0, "limit": size}
    else:
        first = {"paginate": "cursor", "limit": size}
    response = requests.get(f"{url}/{resource}", params={**first, **params}, timeout=10)
    while True:
        response.raise_for_status()
        body = response.json()
        pages += 1
        records += body["data"]
        if style == "page":
            if body["meta"]["page"] >= body["meta"]["total_pages"]:
                break
            query = {"page": body["meta"]["page"] + 1, "per_page": size}
        elif style == "offset":
            if body["meta"]["offset"] + size >= body["meta"]["total"]:
                break
            query = {"offset": body["meta"]["offset"] + size, "limit": size}
        elif style == "cursor":
            if body["meta"]["next_cursor"] is None:
                break
            query = {"cursor": body["meta"]["next_cursor"], "limit": size}
        elif style == "link_header":
            if "next" not in response.links:
                assert body["links"]["next"] is None
                break
            response = requests.get(response.links["next"]["url"], timeout=10)
            continue
        else:  # next URL in the body
            if body["links"]["next"] is None:
                assert "Link" not in response.headers
                break
            response = requests.get(body["links"]["next"], timeout=10)
            continue
        response = requests.get(f"{url}/{resource}", params={**query, **params}, timeout=10)
    assert pages == -(-len(records) // size) or len(records) == 0
    return records


def sort_key(resource: str):
    return lambda r: (r["updated_at"], r[ID[resource]])


@pytest.mark.parametrize("resource", ["orders", "customers"])
@pytest.mark.parametrize("style", ["page", "offset", "cursor", "link_header", "body_next"])
def test_every_style_walks_all_records_exactly_once_in_order(url, resource, style):
    records = walk(url, resource, style)
    ids = [r[ID[resource]] for r in records]
    assert sorted(ids) == list(range(1, SIZE[resource] + 1))
    assert records == sorted(records, key=sort_key(resource))


def test_meta_and_links_describe_the_page(url):
    response = requests.get(f"{url}/orders", params={"page": 3, "per_page": 100, "updated_since": "2025-06-01"})
    body = response.json()
    assert body["meta"] == {
        "page": 3,
        "per_page": 100,
        "offset": 200,
        "limit": 100,
        "total": ORDERS,
        "total_pages": 12,
        "next_cursor": body["meta"]["next_cursor"],
    }
    assert len(body["data"]) == 100 and body["meta"]["next_cursor"]
    next_url = body["links"]["next"]
    assert next_url.startswith(url + "/orders?")
    assert parse_qs(urlsplit(next_url).query) == {
        "page": ["4"],
        "per_page": ["100"],
        "updated_since": ["2025-06-01"],
    }
    assert response.headers["Link"] == f'<{next_url}>; rel="next"'
    last = requests.get(f"{url}/orders", params={"page": 12, "per_page": 100}).json()
    assert len(last["data"]) == 100 and last["links"]["next"] is None and last["meta"]["next_cursor"] is None
    beyond = requests.get(f"{url}/orders", params={"page": 13, "per_page": 100})
    assert beyond.status_code == 200 and beyond.json()["data"] == [] and "Link" not in beyond.headers


def test_empty_cursor_starts_at_the_first_page(url):
    with_empty = requests.get(f"{url}/customers", params={"cursor": "", "limit": 5}).json()
    with_flag = requests.get(f"{url}/customers", params={"paginate": "cursor", "limit": 5}).json()
    assert with_empty == with_flag
    assert [c["customer_id"] for c in with_empty["data"]] == [
        c["customer_id"] for c in requests.get(f"{url}/customers", params={"offset": 0, "limit": 5}).json()["data"]
    ]


@pytest.mark.parametrize("style", ["page", "offset", "cursor"])
def test_updated_since_keeps_records_updated_at_or_after_it(url, style):
    everything = walk(url, "orders", "page", size=500)
    since = everything[700]["updated_at"]  # an existing value: the filter is inclusive
    expected = [r for r in everything if r["updated_at"] >= since]
    assert 0 < len(expected) < len(everything)
    assert expected[0]["updated_at"] == since
    filtered = walk(url, "orders", style, size=90, updated_since=since)
    assert filtered == expected
    meta = requests.get(f"{url}/orders", params={"updated_since": since, "per_page": 90}).json()["meta"]
    assert meta["total"] == len(expected) and meta["total_pages"] == -(-len(expected) // 90)


def test_default_page_and_max_page_size(url):
    body = requests.get(f"{url}/orders").json()
    assert body["meta"]["page"] == 1 and body["meta"]["per_page"] == 100 and len(body["data"]) == 100
    assert len(requests.get(f"{url}/orders", params={"limit": 5000}).json()["data"]) == ORDERS


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": 0}, "page must be >= 1"),
        ({"per_page": 5001}, "per_page must be between 1 and 5000"),
        ({"limit": "ten"}, "limit must be an integer"),
        ({"offset": -1}, "offset must be >= 0"),
        ({"page": 1, "offset": 0}, "cannot be combined"),
        ({"cursor": "not-a-cursor"}, "invalid cursor"),
        ({"updated_since": "yesterday"}, "updated_since must be an ISO 8601 timestamp"),
        ({"paginate": "seek"}, "paginate must be page, offset or cursor"),
    ],
)
def test_bad_parameters_get_400_with_a_json_error(url, params, message):
    response = requests.get(f"{url}/orders", params=params, timeout=10)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_unknown_paths_and_methods_get_json_errors(url):
    missing = requests.get(f"{url}/invoices", timeout=10)
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found: GET /invoices"}
    assert requests.post(f"{url}/orders", timeout=10).status_code == 405
