"""Rate limiting, fault injection (start-up flags and POST /_admin/faults), mutate, stats, determinism over HTTP."""

import time

import orjson
import pytest
import requests
from batchlake.demo_api.server import DemoApiServer


def statuses(url: str, n: int) -> list[int]:
    with requests.Session() as session:
        return [session.get(f"{url}/orders", params={"per_page": 10}, timeout=30).status_code for _ in range(n)]


def all_bytes(url: str, resource: str) -> bytes:
    return requests.get(f"{url}/{resource}", params={"limit": 5000}, timeout=30).content


def test_two_servers_with_the_same_seed_serve_the_same_bytes():
    options = {"orders": 800, "customers": 90, "seed": 11}
    with DemoApiServer(**options) as first, DemoApiServer(**options) as second:
        for resource in ("orders", "customers"):
            a, b = all_bytes(first.url, resource), all_bytes(second.url, resource)
            assert a.replace(first.url.encode(), b"") == b.replace(second.url.encode(), b"")
            assert len(orjson.loads(a)["data"]) == options[resource]


def test_rate_limit_answers_429_with_retry_after():
    with DemoApiServer(orders=100, customers=10, max_rps=2) as api:
        codes = statuses(api.url, 8)
        assert codes[:2] == [200, 200] and 429 in codes
        response = requests.get(f"{api.url}/orders", timeout=10)
        assert response.status_code == 429
        retry_after = int(response.headers["Retry-After"])
        assert retry_after >= 1 and "rate limit" in response.json()["error"]
        assert requests.get(f"{api.url}/health", timeout=10).status_code == 200  # not rate limited
        time.sleep(retry_after)
        assert requests.get(f"{api.url}/orders", timeout=10).status_code == 200
        stats = requests.get(f"{api.url}/_admin/stats", timeout=10).json()
        assert stats["by_status"]["429"] == codes.count(429) + 1


def test_start_up_flags_inject_errors():
    with DemoApiServer(orders=100, customers=10, error_rate=1.0) as api:
        codes = statuses(api.url, 12)
        assert set(codes) == {500, 502, 503}


def test_error_rate_is_a_reproducible_fraction_and_resets(url):
    faults = {"error_rate": 0.3, "seed": 4}
    assert requests.post(f"{url}/_admin/faults", json=faults, timeout=10).json()["error_rate"] == 0.3
    first = statuses(url, 200)
    errors = [c for c in first if c != 200]
    assert set(errors) <= {500, 502, 503} and 40 <= len(errors) <= 80
    requests.post(f"{url}/_admin/reset", timeout=10)
    requests.post(f"{url}/_admin/faults", json=faults, timeout=10)
    assert statuses(url, 200) == first  # same seed, same request numbers -> same answers
    requests.post(f"{url}/_admin/faults", json={}, timeout=10)  # back to no faults
    assert set(statuses(url, 20)) == {200}


def test_error_bursts_are_consecutive(url):
    requests.post(f"{url}/_admin/faults", json={"error_rate": 0.2, "error_burst": 5, "seed": 1}, timeout=10)
    codes = statuses(url, 200)
    failing_blocks = [codes[i : i + 5] for i in range(0, 200, 5) if codes[i] != 200]
    assert failing_blocks and all(200 not in block for block in failing_blocks)


def test_truncated_bodies_are_200_with_half_a_body(url):
    complete = requests.get(f"{url}/orders", params={"per_page": 50}, timeout=10).content
    requests.post(f"{url}/_admin/faults", json={"truncate_rate": 1.0}, timeout=10)
    response = requests.get(f"{url}/orders", params={"per_page": 50}, timeout=10)
    assert response.status_code == 200
    assert response.content == complete[: len(complete) // 2]
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)


def test_slow_responses(url):
    requests.post(f"{url}/_admin/faults", json={"slow_rate": 1.0, "slow_seconds": 0.4}, timeout=10)
    started = time.monotonic()
    assert requests.get(f"{url}/customers", timeout=10).status_code == 200
    assert time.monotonic() - started >= 0.4
    stats = requests.get(f"{url}/_admin/stats", timeout=10).json()
    assert stats["faults_injected"] == {"slow": 1}


def test_bad_admin_bodies_get_400(url):
    response = requests.post(f"{url}/_admin/faults", json={"error_rate": 2}, timeout=10)
    assert response.status_code == 400 and "error_rate" in response.json()["error"]
    response = requests.post(f"{url}/_admin/mutate", json={"changed_fraction": 0.1, "typo": 1}, timeout=10)
    assert response.status_code == 400 and "typo" in response.json()["error"]


def test_mutate_over_http_feeds_an_incremental_load(url):
    everything = requests.get(f"{url}/orders", params={"limit": 5000}, timeout=10).json()["data"]
    high_water = max(o["updated_at"] for o in everything)
    body = {"changed_fraction": 0.05, "new_fraction": 0.01, "recent_days": 30, "seed": 2}
    result = requests.post(f"{url}/_admin/mutate", json=body, timeout=10).json()
    assert result["changed"] == 60 and result["new"] == 12
    changes = requests.get(f"{url}/orders", params={"limit": 5000, "updated_since": high_water}, timeout=10).json()
    # only the changed and new orders are newer than the previous high-water mark (which is not itself re-sent
    # unless that order changed: updated_since is inclusive)
    newer = [o for o in changes["data"] if o["updated_at"] > high_water]
    assert len(newer) == 72 == changes["meta"]["total"] - (len(changes["data"]) - len(newer))
    assert {o["order_id"] for o in newer} >= set(range(1_201, 1_213))
    assert requests.get(f"{url}/health", timeout=10).json()["orders"] == 1_212


def test_stats_count_requests_by_status_and_path(url):
    requests.get(f"{url}/orders", timeout=10)
    requests.get(f"{url}/customers", params={"page": 0}, timeout=10)
    stats = requests.get(f"{url}/_admin/stats", timeout=10).json()
    assert stats["by_status"] == {"200": 1, "400": 1}
    assert stats["by_path"] == {"/orders": 1, "/customers": 1}
    assert stats["requests"] == 2
