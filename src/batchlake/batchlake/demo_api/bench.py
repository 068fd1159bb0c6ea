"""Throughput of the demo API: records/s served for N-record pages fetched by concurrent clients.

python -m batchlake.demo_api.bench --orders 1000000 --clients 4 --page-size 1000 [--passes 2]

Each pass walks every page once (page-number pagination, pages split across the clients). The first pass is cold
(every page generated), later passes are served from the page cache as far as it holds them.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import orjson
import requests

from batchlake.demo_api.server import DemoApiServer


def _client(url: str, resource: str, pages: list[int], page_size: int) -> int:
    records = 0
    with requests.Session() as session:
        for page in pages:
            response = session.get(f"{url}/{resource}", params={"page": page, "per_page": page_size}, timeout=60)
            response.raise_for_status()
            records += len(orjson.loads(response.content)["data"])
    return records


def fetch_pass(url: str, total_pages: int, page_size: int, clients: int, resource: str) -> tuple[int, float]:
    """Every page once, split round-robin over `clients` processes (threads would measure the client's GIL)."""
    shares = [list(range(1 + i, total_pages + 1, clients)) for i in range(clients)]
    with ProcessPoolExecutor(clients) as pool:
        pool.submit(int).result()  # processes up before the clock starts
        started = time.perf_counter()
        futures = [pool.submit(_client, url, resource, share, page_size) for share in shares]
        records = sum(f.result() for f in futures)
    return records, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--cache-mb", type=int, default=256)
    parser.add_argument("--resource", choices=("orders", "customers"), default="orders")
    args = parser.parse_args()
    with DemoApiServer(orders=args.orders, customers=args.customers, cache_mb=args.cache_mb) as api:
        meta = requests.get(f"{api.url}/{args.resource}", params={"per_page": args.page_size}, timeout=60).json()[
            "meta"
        ]
        for number in range(1, args.passes + 1):
            records, seconds = fetch_pass(api.url, meta["total_pages"], args.page_size, args.clients, args.resource)
            print(
                f"pass {number}: {records:,} {args.resource} in {seconds:.2f} s = {records / seconds:,.0f} records/s "
                f"({args.clients} clients, {args.page_size}-record pages)",
                flush=True,
            )
        cache = requests.get(f"{api.url}/_admin/stats", timeout=10).json()["page_cache"]
        print(f"page cache: {cache}")


if __name__ == "__main__":
    main()
