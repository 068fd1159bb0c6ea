"""A small lake for query tests: processed `orders` and `customers` (partitioned Parquet, written with pyarrow),
an `events` Parquet folder with JSON text, registered in a local catalog; the same data as pandas DataFrames,
built from the same Python records, so expected results never come from DuckDB."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from batchlake_core.catalog import LocalCatalog
from batchlake_core.catalog.tables import processed_partition_input, processed_table_input, version_folder
from batchlake_core.contract import load_contract
from batchlake_core.layout import Lake

REPO = Path(__file__).resolve().parents[2]
COUNTRIES = ["FR", "DE", "ES", "US"]
SEGMENTS = ["consumer", "small_business", "enterprise"]
STATUSES = ["placed", "paid", "shipped", "delivered", "cancelled", "returned"]
SKUS = [(f"SKU-{i}", f"Product {i}", Decimal(f"{3 + i}.{i * 7 % 100:02d}")) for i in range(1, 9)]


def make_customers(rng: random.Random) -> list[dict]:
    rows = []
    for i in range(1, 41):
        signup = date(2025, 10, 1) + timedelta(days=rng.randrange(0, 120))
        created = datetime(signup.year, signup.month, signup.day, 8) + timedelta(minutes=i)
        rows.append(
            {
                "customer_id": i,
                "email": f"user{i}@{'example.com' if i % 3 else 'shop.io'}",
                "full_name": f"Customer  {i} Name",
                "country": COUNTRIES[i % 4],
                "city": f"City {i % 7}",
                "segment": SEGMENTS[rng.randrange(3)],
                "marketing_opt_in": rng.random() < 0.5,
                "signup_date": signup,
                "created_at": created,
                "updated_at": created + timedelta(days=1),
            }
        )
    return rows


def make_orders(rng: random.Random) -> list[dict]:
    rows = []
    for i in range(1, 301):
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 74))
        created = datetime(day.year, day.month, day.day, rng.randrange(0, 24), rng.randrange(60), i % 60)
        items = []
        for _ in range(rng.randrange(0, 5)):
            sku, name, price = SKUS[rng.randrange(len(SKUS))]
            items.append({"sku": sku, "name": name, "quantity": rng.randrange(1, 6), "unit_price": price})
        total = sum((it["quantity"] * it["unit_price"] for it in items), Decimal("0.00"))
        status = STATUSES[rng.randrange(len(STATUSES))]
        promised = day + timedelta(days=rng.randrange(3, 8))
        delivered = (
            datetime(promised.year, promised.month, promised.day, 12) + timedelta(days=rng.randrange(-3, 4))
            if status in ("delivered", "returned")
            else None
        )
        rows.append(
            {
                "order_id": i,
                "customer_id": rng.randrange(1, 46),  # a few unknown customers, on purpose
                "status": status,
                "channel": ["web", "app", "store"][rng.randrange(3)],
                "currency": "EUR" if rng.random() < 0.8 else "USD",
                "total_amount": total,
                "items": items,
                "shipping_country": COUNTRIES[rng.randrange(4)],
                "shipping_city": f"City {rng.randrange(7)}",
                "shipping_method": ["standard", "express"][rng.randrange(2)],
                "promised_date": promised,
                "delivered_at": delivered,
                "created_at": created,
                "updated_at": created + timedelta(hours=1),
                "order_date": day,
            }
        )
    return rows


def make_events(rng: random.Random) -> list[dict]:
    rows = []
    for i in range(1, 61):
        payload = {
            "device": {"os": ["ios", "android", "web"][i % 3], "version": f"{i % 4}.0"},
            "tags": [f"t{j}" for j in range(i % 4)],
            "amount": round(rng.random() * 100, 2),
        }
        rows.append({"event_id": i, "kind": ["click", "view"][i % 2], "payload": json.dumps(payload)})
    return rows


def arrow_schema(contract) -> pa.Schema:
    """Arrow schema of a contract's processed columns (what the transforms write)."""
    item = pa.struct(
        [("sku", pa.string()), ("name", pa.string()), ("quantity", pa.int32()), ("unit_price", pa.decimal128(10, 2))]
    )
    types = {
        "bigint": pa.int64(),
        "string": pa.string(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
        "decimal(12,2)": pa.decimal128(12, 2),
        "array<struct<sku:string,name:string,quantity:int,unit_price:decimal(10,2)>>": pa.list_(item),
    }
    return pa.schema([(c.name, types[c.type]) for c in contract.schema.columns])


def write_processed(lake: Lake, catalog: LocalCatalog, contract, rows: list[dict], key: str, key_of) -> None:
    root = lake.processed_dataset(contract.dataset)
    catalog.upsert_table("batchlake", processed_table_input(contract, root))
    schema = arrow_schema(contract)
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(str(key_of(r)), []).append(r)
    for value, group in sorted(groups.items()):
        location = version_folder(root, {key: value}, "r1")  # where a publish puts a partition's version
        folder = Path(location)
        folder.mkdir(parents=True)
        table = pa.Table.from_pylist([{c: r[c] for c in schema.names} for r in group], schema=schema)
        pq.write_table(table, folder / "part-00000.parquet")
        catalog.add_partitions(
            "batchlake", contract.dataset, [processed_partition_input(contract, root, {key: value}, location)]
        )


class QueryLake:
    def __init__(self, root: Path) -> None:
        rng = random.Random(20261124)
        self.root = root
        self.lake = Lake.local(root)
        self.catalog = LocalCatalog(root / "catalog" / "glue_catalog.sqlite")
        self.catalog.ensure_database("batchlake")
        orders_contract = load_contract(REPO / "pipelines" / "orders.yaml")
        customers_contract = load_contract(REPO / "pipelines" / "customers.yaml")
        self.customer_rows = make_customers(rng)
        self.order_rows = make_orders(rng)
        self.event_rows = make_events(rng)
        write_processed(
            self.lake,
            self.catalog,
            customers_contract,
            self.customer_rows,
            "signup_year",
            lambda r: r["signup_date"].year,
        )
        write_processed(
            self.lake,
            self.catalog,
            orders_contract,
            self.order_rows,
            "order_date",
            lambda r: r["order_date"].isoformat(),
        )
        self.events_dir = root / "external" / "events"
        self.events_dir.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(self.event_rows), self.events_dir / "events.parquet")

        self.orders = pd.DataFrame(self.order_rows)
        self.orders["amount"] = self.orders["total_amount"].astype(float)
        self.customers = pd.DataFrame(self.customer_rows)
        self.customers["signup_year"] = self.customers["signup_date"].map(lambda d: d.year)
        self.events = pd.DataFrame(self.event_rows)


@pytest.fixture(scope="session")
def query_lake(tmp_path_factory) -> QueryLake:
    return QueryLake(tmp_path_factory.mktemp("query-lake"))
