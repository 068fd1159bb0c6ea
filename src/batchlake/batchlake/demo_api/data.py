"""Deterministic e-commerce data for the demo API: orders with line items, and customers.

Every field of a record is a pure function of (seed, id) and, for orders, of the few mutable per-order values kept in
numpy arrays (status, created/updated/delivered timestamps, extra quantity). Random choices come from a counter-based
hash (splitmix64) computed with numpy, so a page is generated on demand, vectorised, without a stateful RNG: the same
options give the same bytes on every machine, and 1,000,000 orders need about 40 MB of arrays.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import orjson

MASK64 = (1 << 64) - 1


def _ts(text: str) -> int:
    return int(np.datetime64(text, "s").astype(np.int64))


# Fixed calendar (never relative to now): identical data on every machine, every day.
ORDERS_START = _ts("2025-06-01T00:00:00")
ORDERS_END = _ts("2025-11-30T23:59:59")  # also the "as of" time of the initial dataset
CUSTOMERS_START = _ts("2021-01-01T00:00:00")
DAY = 86_400
CALENDAR_DAYS = 60_000  # 1970-01-01 .. 2134: the range the fast timestamp formatting covers

STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
PLACED, PAID, SHIPPED, DELIVERED, CANCELLED, RETURNED = range(6)
CHANNELS = ("web", "app", "marketplace")
SHIPPING_METHODS = ("standard", "express", "pickup")
SEGMENTS = ("consumer", "small_business", "enterprise")

# country, currency, weight, cities
COUNTRIES = (
    ("US", "USD", 24, ("New York", "Chicago", "Austin", "Seattle", "Denver")),
    ("GB", "GBP", 16, ("London", "Manchester", "Leeds", "Bristol")),
    ("DE", "EUR", 16, ("Berlin", "Munich", "Hamburg", "Cologne")),
    ("FR", "EUR", 12, ("Paris", "Lyon", "Marseille", "Lille")),
    ("NL", "EUR", 8, ("Amsterdam", "Rotterdam", "Utrecht")),
    ("ES", "EUR", 8, ("Madrid", "Barcelona", "Valencia")),
    ("IT", "EUR", 8, ("Milan", "Rome", "Turin")),
    ("IE", "EUR", 4, ("Dublin", "Cork")),
    ("SE", "EUR", 4, ("Stockholm", "Gothenburg")),
)
FIRST_NAMES = (
    "Emma", "Liam", "Olivia", "Noah", "Amelia", "Oliver", "Sofia", "Lucas", "Mia", "Elias", "Chloe", "Hugo",
    "Hannah", "Leon", "Julia", "Mateo", "Clara", "Finn", "Alice", "Jonas", "Grace", "Luca", "Ella", "Theo",
    "Nora", "Adam", "Lea", "Samuel", "Maya", "David", "Zoe", "Felix",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Muller", "Garcia", "Rossi", "Martin", "Jansen", "Brown", "Schmidt", "Lopez", "Bernard", "Murphy",
    "Johansson", "Wilson", "Fischer", "Romano", "Dubois", "Visser", "Taylor", "Weber", "Moreno", "Bianchi",
    "Kelly", "Lindberg", "Clarke", "Wagner", "Petit", "Bakker", "Evans", "Becker", "Costa", "Walsh", "Nilsson",
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
PRODUCT_ADJECTIVES = (
    "Classic", "Organic", "Wireless", "Compact", "Premium", "Vintage", "Ergonomic", "Recycled", "Smart", "Travel",
    "Deluxe", "Everyday",
)  # fmt: skip
PRODUCT_NOUNS = (
    "Backpack", "Coffee Beans", "Headphones", "Desk Lamp", "Water Bottle", "Notebook", "Sneakers", "Yoga Mat",
    "Kettle", "Phone Case", "Sunglasses", "Wool Scarf", "Chef Knife", "Board Game", "Plant Pot", "Rain Jacket",
)  # fmt: skip
N_PRODUCTS = 500
MAX_TABLE_QUANTITY = 16  # line items with a larger quantity are written one by one
ITEM_COUNT_WEIGHTS = (35, 25, 15, 10, 8, 7)  # 1..6 line items

_COUNTRY_CODES = np.array([c[0] for c in COUNTRIES])
_COUNTRY_CUM = np.cumsum([c[2] for c in COUNTRIES]) / sum(c[2] for c in COUNTRIES)
_CITY_COUNTS = np.array([len(c[3]) for c in COUNTRIES])
_CURRENCY_BY_COUNTRY = [c[1] for c in COUNTRIES]
_ORDER_TEMPLATE = (
    '{"order_id":%d,"customer_id":%d,"status":"%s","channel":"%s","currency":"%s","total_amount":%d.%02d,'
    '"items":[%s],"shipping":%s,"promised_date":"%s","delivered_at":%s,"created_at":"%s","updated_at":"%s"}'
)
_ITEM_COUNT_CUM = np.cumsum(ITEM_COUNT_WEIGHTS) / sum(ITEM_COUNT_WEIGHTS)


def _mix_int(x: int) -> int:
    """splitmix64 finaliser on one Python int."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def hash_ids(seed: int, ids: np.ndarray, field: int) -> np.ndarray:
    """A 64-bit pseudo-random value per id, independent for each (seed, field)."""
    salt = np.uint64(_mix_int((seed * 1_000_003 + field * 7_919) & MASK64))
    return _mix(np.asarray(ids).astype(np.uint64) ^ salt)


def uniform(seed: int, ids: np.ndarray, field: int) -> np.ndarray:
    """A float in [0, 1) per id."""
    return (hash_ids(seed, ids, field) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def below(seed: int, ids: np.ndarray, field: int, n: int | np.ndarray) -> np.ndarray:
    """An int in [0, n) per id."""
    return (uniform(seed, ids, field) * n).astype(np.int64)


@functools.cache
def _calendar_tables() -> tuple[np.ndarray, np.ndarray]:
    """'YYYY-MM-DD' for every day 1970..2134 and 'THH:MM:SSZ' for every second of a day (~10 MB, built once)."""
    dates = np.datetime_as_string(np.arange(CALENDAR_DAYS).astype("datetime64[D]")).tolist()
    times = [f"T{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)]
    return np.array(dates, dtype=object), np.array(times, dtype=object)


def iso_seconds(seconds: np.ndarray) -> list[str]:
    """UTC timestamps as 'YYYY-MM-DDTHH:MM:SSZ' (table look-ups: ~4x faster than numpy's datetime_as_string)."""
    seconds = np.asarray(seconds, dtype=np.int64)
    days = seconds // DAY
    if len(days) and (days.min() < 0 or days.max() >= CALENDAR_DAYS):
        return np.char.add(np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s"), "Z").tolist()
    dates, times = _calendar_tables()
    return (dates[days] + times[seconds - days * DAY]).tolist()


def iso_dates(seconds: np.ndarray) -> list[str]:
    """UTC dates as 'YYYY-MM-DD'."""
    days = np.asarray(seconds, dtype=np.int64) // DAY
    if len(days) and (days.min() < 0 or days.max() >= CALENDAR_DAYS):
        return np.datetime_as_string(days.astype("datetime64[D]")).tolist()
    return _calendar_tables()[0][days].tolist()


def parse_timestamp(text: str) -> int:
    """ISO 8601 timestamp or date -> epoch seconds (UTC; no offset = UTC). Raises ValueError on anything else.

    Rounded up: records carry whole seconds, so `updated_at >= 10:00:00.5` means `>= 10:00:01`.
    """
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return math.ceil(value.timestamp())


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    unit_price_cents: int


def product_catalog(seed: int) -> list[Product]:
    ks = np.arange(N_PRODUCTS)
    adjective = below(seed, ks, 101, len(PRODUCT_ADJECTIVES)).tolist()
    noun = below(seed, ks, 102, len(PRODUCT_NOUNS)).tolist()
    # prices from 2.99 to ~250, most of them cheap; always ending in .99 / .49 like a shop's
    base = (2 + (uniform(seed, ks, 103) ** 2.5) * 248).astype(np.int64)
    cents = base * 100 + np.where(uniform(seed, ks, 104) < 0.7, 99, 49)
    return [
        Product(f"SKU-{k + 1:05d}", f"{PRODUCT_ADJECTIVES[a]} {PRODUCT_NOUNS[n]}", int(c))
        for k, a, n, c in zip(ks.tolist(), adjective, noun, cents.tolist(), strict=True)
    ]


def _country_and_city(seed: int, ids: np.ndarray, field: int) -> tuple[np.ndarray, np.ndarray]:
    country = np.searchsorted(_COUNTRY_CUM, uniform(seed, ids, field), side="right")
    city = below(seed, ids, field + 1, _CITY_COUNTS[country])
    return country, city


class Dataset:
    """Orders and customers, sorted by (updated_at, id), with mutations for incremental-load tests.

    Writes (`mutate`, `reset`) are serialised by a lock but reads are not: the API calls every method from its
    single event-loop thread, so a page is never generated while the data changes.
    """

    def __init__(self, orders: int = 100_000, customers: int = 20_000, seed: int = 42) -> None:
        if orders < 0 or customers < 1:
            raise ValueError("need orders >= 0 and customers >= 1")
        self.seed = seed
        self.n_customers = customers
        self.initial_orders = orders
        self.products = product_catalog(seed)
        self._product_sku = [p.sku for p in self.products]
        self._product_name = [p.name for p in self.products]
        self._product_cents = np.array([p.unit_price_cents for p in self.products], dtype=np.int64)
        # JSON text of every (product, quantity) line item and every shipping address, looked up by index
        self._item_table = np.array(
            [self._item_text(p, q) for p in range(N_PRODUCTS) for q in range(MAX_TABLE_QUANTITY)], dtype=object
        )
        self._shipping_table = np.array(
            [
                f'{{"country":"{country[0]}","city":"{country[3][min(city, len(country[3]) - 1)]}",'
                f'"method":"{method}"}}'
                for country in COUNTRIES
                for city in range(16)
                for method in (*SHIPPING_METHODS, SHIPPING_METHODS[0])
            ],
            dtype=object,
        )
        self._lock = threading.Lock()
        self.generation = 0
        self._init_customers()
        self.reset()

    # ---------------------------------------------------------------- customers
    def _init_customers(self) -> None:
        n, seed = self.n_customers, self.seed
        ids = np.arange(1, n + 1, dtype=np.int64)
        span = ORDERS_END - CUSTOMERS_START
        step = max(span // n, 1)
        # customer ids grow with signup time, like a real sequence
        created = CUSTOMERS_START + (ids - 1) * span // n + below(seed, ids, 1, step)
        touched = uniform(seed, ids, 2) < 0.35  # profile edited later
        later = (uniform(seed, ids, 3) * (ORDERS_END - created)).astype(np.int64)
        updated = np.where(touched, created + later, created)
        self._customer_created = created
        self._customer_updated = updated
        self._customer_keys = np.sort((updated << 32) | ids)

    def customer_page(self, ids: np.ndarray) -> list[dict]:
        seed = self.seed
        first = below(seed, ids, 10, len(FIRST_NAMES)).tolist()
        last = below(seed, ids, 11, len(LAST_NAMES)).tolist()
        domain = below(seed, ids, 12, len(EMAIL_DOMAINS)).tolist()
        country, city = _country_and_city(seed, ids, 13)
        segment_u = uniform(seed, ids, 15)
        segment = np.where(segment_u < 0.8, 0, np.where(segment_u < 0.95, 1, 2)).tolist()
        opt_in = (uniform(seed, ids, 16) < 0.45).tolist()
        created_s = self._customer_created[ids - 1]
        created = iso_seconds(created_s)
        updated = iso_seconds(self._customer_updated[ids - 1])
        signup = iso_dates(created_s)
        records = []
        for i, cid in enumerate(ids.tolist()):
            f, la = FIRST_NAMES[first[i]], LAST_NAMES[last[i]]
            c = COUNTRIES[country[i]]
            records.append(
                {
                    "customer_id": cid,
                    "email": f"{f}.{la}{cid}@{EMAIL_DOMAINS[domain[i]]}".lower(),
                    "full_name": f"{f} {la}",
                    "country": c[0],
                    "city": c[3][city[i]],
                    "segment": SEGMENTS[segment[i]],
                    "marketing_opt_in": opt_in[i],
                    "signup_date": signup[i],
                    "created_at": created[i],
                    "updated_at": updated[i],
                }
            )
        return records

    # ---------------------------------------------------------------- orders
    def reset(self) -> None:
        """Back to the initial orders (drops every mutation)."""
        n, seed = self.initial_orders, self.seed
        ids = np.arange(1, n + 1, dtype=np.int64)
        span = ORDERS_END - ORDERS_START
        step = max(span // max(n, 1), 1)
        created = ORDERS_START + (ids - 1) * span // max(n, 1) + below(seed, ids, 20, step)
        status, updated, delivered = self._initial_lifecycle(ids, created)
        with self._lock:
            self._created = created
            self._updated = updated
            self._delivered = delivered  # 0 = not delivered
            self._status = status
            self._extra_qty = np.zeros(n, dtype=np.int16)
            self._order_keys = np.sort((updated << 32) | ids)
            self._mutations = 0
            self.generation += 1

    def _initial_lifecycle(self, ids: np.ndarray, created: np.ndarray):
        """Status and timestamps as of ORDERS_END: events later than that have not happened yet."""
        seed, as_of = self.seed, ORDERS_END
        method = below(seed, ids, 31, len(SHIPPING_METHODS))
        # most pay within the hour; one in five pays later (bank transfer, invoice) within 4 days
        pay_delay = np.where(uniform(seed, ids, 46) < 0.8, below(seed, ids, 40, 3600), below(seed, ids, 47, 4 * DAY))
        paid = created + 60 + pay_delay
        shipped = paid + 6 * 3600 + below(seed, ids, 41, 2 * DAY)
        transit = np.where(method == 1, DAY, 2 * DAY) + below(seed, ids, 42, 3 * DAY)
        delivered = shipped + transit
        returned = delivered + DAY + below(seed, ids, 43, 14 * DAY)
        cancelled = created + 600 + below(seed, ids, 44, 2 * DAY)
        fate = uniform(seed, ids, 45)
        status = np.full(len(ids), PLACED, dtype=np.int8)
        updated = created.copy()
        for code, when in ((PAID, paid), (SHIPPED, shipped), (DELIVERED, delivered)):
            happened = when <= as_of
            status[happened] = code
            updated[happened] = when[happened]
        is_returned = (fate < 0.03) & (returned <= as_of)
        status[is_returned], updated[is_returned] = RETURNED, returned[is_returned]
        is_cancelled = (fate >= 0.03) & (fate < 0.07) & (cancelled <= as_of) & (cancelled < shipped)
        status[is_cancelled], updated[is_cancelled] = CANCELLED, cancelled[is_cancelled]
        delivered_at = np.where((status == DELIVERED) | (status == RETURNED), delivered, 0)
        return status, updated, delivered_at

    @property
    def n_orders(self) -> int:
        return len(self._created)

    def encode_orders(self, ids: np.ndarray) -> bytes:
        """The orders with these ids as a JSON array (UTF-8 bytes), in the given order.

        Written with string templates rather than dicts + a JSON encoder: every string comes from the fixed word
        lists above (no character needs escaping) and this is the API's hot path.
        """
        seed = self.seed
        idx = ids - 1
        created_s = self._created[idx]
        status = self._status[idx].tolist()
        delivered_s = self._delivered[idx]
        # customers who had signed up by the order's time, older (lower id) customers order more often
        eligible = np.searchsorted(self._customer_created, created_s, side="right")
        eligible = np.maximum(eligible, 1)
        customer = 1 + (uniform(seed, ids, 21) ** 1.5 * eligible).astype(np.int64)
        channel = below(seed, ids, 22, len(CHANNELS)).tolist()
        # ship to the customer's own address 90% of the time
        own_country, own_city = _country_and_city(seed, customer, 13)
        other_country, other_city = _country_and_city(seed, ids, 23)
        own = uniform(seed, ids, 25) < 0.9
        country = np.where(own, own_country, other_country).tolist()
        city = np.where(own, own_city, other_city).tolist()
        method = below(seed, ids, 31, len(SHIPPING_METHODS))
        promised = created_s + np.array([5 * DAY, 2 * DAY, 3 * DAY])[method]
        # line items, flattened
        n_items = 1 + np.searchsorted(_ITEM_COUNT_CUM, uniform(seed, ids, 26), side="right")
        item_order = np.repeat(ids, n_items)
        starts = np.cumsum(n_items) - n_items
        position = np.arange(len(item_order)) - np.repeat(starts, n_items)
        item_key = item_order * 8 + position
        product = (uniform(seed, item_key, 27) ** 2 * N_PRODUCTS).astype(np.int64)
        qty_u = uniform(seed, item_key, 28)
        quantity = np.where(qty_u < 0.7, 1, np.where(qty_u < 0.9, 2, 3 + (qty_u * 100).astype(np.int64) % 3))
        quantity = quantity + np.where(position == 0, np.repeat(self._extra_qty[idx].astype(np.int64), n_items), 0)
        cents = self._product_cents[product]
        totals = np.add.reduceat(quantity * cents, starts) if len(ids) else np.zeros(0, dtype=np.int64)

        created = iso_seconds(created_s)
        updated = iso_seconds(self._updated[idx])
        delivered = iso_seconds(delivered_s)
        promised_dates = iso_dates(promised)
        has_delivered = (delivered_s > 0).tolist()
        # each order's line items as one JSON text, joined in C (object arrays) rather than in a Python loop
        item_text = self._item_table[product * MAX_TABLE_QUANTITY + np.minimum(quantity, MAX_TABLE_QUANTITY - 1)]
        for m in np.flatnonzero(quantity >= MAX_TABLE_QUANTITY).tolist():  # only after many mutations
            item_text[m] = self._item_text(int(product[m]), int(quantity[m]))
        not_first = position > 0
        item_text[not_first] = "," + item_text[not_first]
        items_l = np.add.reduceat(item_text, starts).tolist() if len(ids) else []
        shipping_l = self._shipping_table[(np.asarray(country) * 16 + np.asarray(city)) * 4 + method].tolist()
        currency = [_CURRENCY_BY_COUNTRY[c] for c in country]
        customer_l, whole, fraction = customer.tolist(), (totals // 100).tolist(), (totals % 100).tolist()
        parts = []
        for i, oid in enumerate(ids.tolist()):
            parts.append(
                _ORDER_TEMPLATE
                % (
                    oid,
                    customer_l[i],
                    STATUSES[status[i]],
                    CHANNELS[channel[i]],
                    currency[i],
                    whole[i],
                    fraction[i],
                    items_l[i],
                    shipping_l[i],
                    promised_dates[i],
                    f'"{delivered[i]}"' if has_delivered[i] else "null",
                    created[i],
                    updated[i],
                )
            )
        return ("[" + ",".join(parts) + "]").encode()

    def _item_text(self, product: int, quantity: int) -> str:
        cents = int(self._product_cents[product])
        return (
            f'{{"sku":"{self._product_sku[product]}","name":"{self._product_name[product]}",'
            f'"quantity":{quantity},"unit_price":{cents // 100}.{cents % 100:02d}}}'
        )

    # ---------------------------------------------------------------- reading
    def sorted_keys(self, resource: str) -> np.ndarray:
        """(updated_at << 32 | id) of every record, ascending: the order the API serves."""
        return self._order_keys if resource == "orders" else self._customer_keys

    def records(self, resource: str, ids: np.ndarray) -> list[dict]:
        return orjson.loads(self.encode(resource, ids))

    def encode(self, resource: str, ids: np.ndarray) -> bytes:
        """The records with these ids as a JSON array (bytes)."""
        if len(ids) == 0:
            return b"[]"
        return self.encode_orders(ids) if resource == "orders" else orjson.dumps(self.customer_page(ids))

    # ---------------------------------------------------------------- changes
    def mutate(
        self, changed_fraction: float, new_fraction: float = 0.0, recent_days: float | None = None, seed: int = 1
    ) -> dict:
        """Change a fraction of existing orders and append new ones, all with updated_at after every previous one.

        Changed orders are the ones with the lowest hash(seed, id) among the candidates (created within `recent_days`
        of the newest order, or all orders), so the same call on the same data always changes the same orders.
        """
        if not 0 <= changed_fraction <= 1 or not 0 <= new_fraction <= 10:
            raise ValueError("changed_fraction must be in [0, 1] and new_fraction in [0, 10]")
        if recent_days is not None and recent_days <= 0:
            raise ValueError("recent_days must be > 0 or null")
        with self._lock:
            n = len(self._created)
            ids = np.arange(1, n + 1, dtype=np.int64)
            if recent_days is None:
                candidates = ids
            else:
                newest = int(self._created.max()) if n else ORDERS_END
                candidates = ids[self._created >= newest - int(recent_days * DAY)]
            k = min(round(changed_fraction * n), len(candidates))
            salt = seed * 2_654_435_761 + self._mutations
            rank = hash_ids(salt, candidates, 50)
            chosen = np.sort(candidates[np.argsort(rank, kind="stable")[:k]])
            n_new = round(new_fraction * n)
            window = 3600  # changes are spread over the hour after the newest previous update
            base = max(int(self._updated.max()) if n else ORDERS_END, int(self._customer_updated.max())) + 1
            when = base + (uniform(salt, chosen, 51) * window).astype(np.int64)

            status, updated, delivered = self._status.copy(), self._updated.copy(), self._delivered.copy()
            extra_qty = self._extra_qty.copy()
            idx = chosen - 1
            old = status[idx]
            u = uniform(salt, chosen, 52)
            new = old.copy()
            new[old == PLACED] = np.where(u[old == PLACED] < 0.1, CANCELLED, PAID)
            new[old == PAID] = SHIPPED
            new[old == SHIPPED] = DELIVERED
            new[(old == DELIVERED) & (u < 0.3)] = RETURNED
            # before shipping, a customer may add one more of the first item: the amount changes
            edit = ((old == PLACED) | (old == PAID)) & (new != CANCELLED) & (uniform(salt, chosen, 53) < 0.3)
            extra_qty[idx[edit]] += 1
            status[idx] = new
            updated[idx] = when
            just_delivered = idx[(old == SHIPPED) & (new == DELIVERED)]
            delivered[just_delivered] = updated[just_delivered]

            new_ids = np.arange(n + 1, n + n_new + 1, dtype=np.int64)
            new_created = base + (uniform(salt, new_ids, 54) * window).astype(np.int64)
            self._created = np.concatenate([self._created, new_created])
            self._updated = np.concatenate([updated, new_created])
            self._delivered = np.concatenate([delivered, np.zeros(n_new, dtype=np.int64)])
            self._status = np.concatenate([status, np.full(n_new, PLACED, dtype=np.int8)])
            self._extra_qty = np.concatenate([extra_qty, np.zeros(n_new, dtype=np.int16)])
            all_ids = np.arange(1, n + n_new + 1, dtype=np.int64)
            self._order_keys = np.sort((self._updated << 32) | all_ids)
            self._mutations += 1
            self.generation += 1
        return {
            "changed": int(k),
            "candidates": len(candidates),
            "new": n_new,
            "orders_total": n + n_new,
            "updated_at_from": iso_seconds(np.array([base]))[0],
            "updated_at_to": iso_seconds(np.array([base + window - 1]))[0],
            "generation": self.generation,
        }
