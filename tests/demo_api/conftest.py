"""One small demo API per test module, reset to its start-up state before every test."""

import pytest
import requests
from batchlake.demo_api.server import DemoApiServer

ORDERS, CUSTOMERS = 1_200, 150  # test_pagination.py relies on these sizes


@pytest.fixture(scope="module")
def api():
    with DemoApiServer(orders=ORDERS, customers=CUSTOMERS, seed=7) as server:
        yield server


@pytest.fixture
def url(api):
    requests.post(f"{api.url}/_admin/reset", timeout=10).raise_for_status()
    return api.url
