"""A corpus of malformed raw records, all in one raw run, through one transform: every record's fate is checked.

Each record ends in exactly one place: quarantined with a reason naming the problem, processed (with the value
asserted), or counted as a duplicate of another record. Nothing fails the job, nothing is dropped silently, and the
counts reconcile: `records_in = records_processed + records_duplicate + records_quarantined`.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from batchlake_core.layout import Lake
from batchlake_core.storage import LocalObjectStore
from batchlake_transforms.bookmarks import pending_raw_runs
from batchlake_transforms.io import spark_path
from batchlake_transforms.job import transform_dataset
from batchlake_transforms.schema import processed_schema
from pyspark.sql import functions as F

pytestmark = [pytest.mark.spark]

RUN_ID = "20251201T000000Z-badinputs"


def order(key: int, **changes) -> dict:
    """A valid order as the shop API returns it, with `changes` applied (a value of ... removes the field)."""
    record = {
        "order_id": key,
        "customer_id": 3,
        "status": "paid",
        "channel": "web",
        "currency": "EUR",
        "total_amount": 12.5,
        "items": [{"sku": "SKU-1", "name": "Lamp", "quantity": 1, "unit_price": 12.5}],
        "shipping": {"country": "ES", "city": "Valencia", "method": "standard"},
        "promised_date": "2025-11-05",
        "delivered_at": None,
        "created_at": "2025-11-01T10:00:00Z",
        "updated_at": "2025-11-01T10:00:00Z",
    }
    for key, value in changes.items():
        if value is ...:
            record.pop(key)
        else:
            record[key] = value
    return record


def line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False)


def with_raw(key: int, field_name: str, raw_json: str) -> str:
    """A valid order whose `field_name` holds `raw_json` verbatim (for JSON that json.dumps cannot produce)."""
    return line(order(key, **{field_name: ...}))[:-1] + f', "{field_name}": {raw_json}}}'


@dataclass
class Case:
    name: str
    text: str | bytes  # one raw line (bytes for invalid UTF-8)
    fate: str  # quarantined | processed | duplicate
    reason: str = ""  # for quarantined: a fragment the reason must contain
    expect: dict = field(default_factory=dict)  # for processed: column -> value in the processed row
    order_id: int | None = None  # for processed: the key of its row


Q, P, D = "quarantined", "processed", "duplicate"
MALFORMED = "malformed record"
LONG = "x" * 200_000
INVALID_UTF8 = b"w\xff\xfeb"

CASES = [
    # --- broken JSON ---
    Case("truncated object", '{"order_id": 1, "customer_id": 3, "status": "pa', Q, MALFORMED),
    Case("not JSON at all", "hello world, not json", Q, MALFORMED),
    Case("empty line", "", Q, "missing required field order_id"),
    Case("blanks only", "   \t  ", Q, "missing required field order_id"),
    Case("single quotes (Spark accepts them)", "{'order_id': 5, 'customer_id': 3}", Q, "missing required field status"),
    Case("trailing comma", line(order(6))[:-1] + ",}", Q, MALFORMED),
    Case("comment inside", line(order(7)).replace("{", "{/* c */", 1), Q, MALFORMED),
    Case("garbage after the object is ignored", line(order(8)) + " trailing", P, order_id=8),
    Case("JSON array, not object", "[1, 2, 3]", Q, MALFORMED),
    Case("JSON string, not object", '"an order"', Q, MALFORMED),
    Case("JSON number, not object", "42", Q, MALFORMED),
    Case("JSON null", "null", Q, MALFORMED),
    Case(
        "raw control character kept", line(order(13, channel="w\x01eb")), P, order_id=13, expect={"channel": "w\x01eb"}
    ),
    # --- wrong types ---
    Case("order_id is text", line(order(14, order_id="abc")), Q, "invalid bigint for order_id"),
    Case("order_id is a fraction", line(order(15, order_id=15.5)), Q, "invalid bigint for order_id"),
    Case("customer_id is a boolean", line(order(16, customer_id=True)), Q, "invalid bigint for customer_id"),
    Case("amount is text", line(order(17, total_amount="twelve")), Q, "invalid decimal(12,2) for total_amount"),
    Case("amount is NaN", with_raw(18, "total_amount", "NaN"), Q, "total_amount"),
    Case("items is a string", line(order(19, items="none")), Q, MALFORMED),
    Case("items is an object", line(order(20, items={"sku": "A"})), Q, MALFORMED),
    Case("quantity is text", line(order(21, items=[{"sku": "A", "quantity": "two"}])), Q, MALFORMED),
    Case("created_at is a number", line(order(22, created_at=1700000000)), Q, "invalid timestamp for created_at"),
    # --- missing required fields ---
    Case("no order_id", line(order(23, order_id=...)), Q, "missing required field order_id"),
    Case("order_id null", line(order(24, order_id=None)), Q, "missing required field order_id"),
    Case("no customer_id", line(order(25, customer_id=...)), Q, "missing required field customer_id"),
    Case("no status", line(order(26, status=...)), Q, "missing required field status"),
    Case("no created_at", line(order(27, created_at=...)), Q, "missing required field created_at"),
    Case("no updated_at", line(order(28, updated_at=...)), Q, "missing required field updated_at"),
    Case("empty object", "{}", Q, "missing required field order_id"),
    # --- huge values ---
    Case("order_id beyond bigint", line(order(1, order_id=10**25)), Q, "invalid bigint for order_id"),
    Case(
        "amount beyond decimal(12,2)", line(order(31, total_amount=1e30)), Q, "invalid decimal(12,2) for total_amount"
    ),
    Case("negative amount", line(order(32, total_amount=-5)), Q, "failed filter: total_amount >= 0"),
    Case("quantity beyond int", line(order(33, items=[{"sku": "A", "quantity": 10**12}])), Q, MALFORMED),
    Case(
        "200 kB city",
        line(order(34, shipping={"country": "ES", "city": LONG})),
        P,
        order_id=34,
        expect={"shipping_city": LONG},
    ),
    # --- unexpected nesting ---
    Case("order_id is an array", line(order(35, order_id=[35])), Q, "invalid bigint for order_id"),
    Case("shipping is a string", line(order(36, shipping="ES")), Q, MALFORMED),
    Case(
        "unknown extra fields",
        line(order(37, extra={"deep": [{"x": 1}]}, another=1)),
        P,
        order_id=37,
        expect={"status": "paid"},
    ),
    Case(
        "country is an object",
        line(order(38, shipping={"country": {"code": "ES"}})),
        P,
        order_id=38,
        expect={"shipping_country": '{"code":"ES"}'},
    ),
    # --- Unicode edge cases ---
    Case(
        "emoji and accents",
        line(order(39, shipping={"city": "Zürich 🚀"})),
        P,
        order_id=39,
        expect={"shipping_city": "Zürich 🚀"},
    ),
    Case(
        "right-to-left and combining marks",
        line(order(40, channel="שָׁלוֹם e\u0301")),
        P,
        order_id=40,
        expect={"channel": "שָׁלוֹם e\u0301"},
    ),
    Case("escaped NUL character", line(order(41, channel="a\u0000b")), P, order_id=41, expect={"channel": "a\u0000b"}),
    Case(
        "escaped lone surrogate",
        with_raw(42, "channel", '"\\ud800"'),
        P,
        order_id=42,
        expect={"channel": "?"},
    ),
    Case("byte order mark before the object", "\ufeff" + line(order(43)), Q, MALFORMED),
    Case(
        "invalid UTF-8 bytes in a string",
        line(order(44, channel="CHANNEL")).encode().replace(b"CHANNEL", INVALID_UTF8),
        P,
        order_id=44,
        expect={"channel": "w\ufffd\ufffdb"},
    ),
    # --- duplicate keys and duplicate records ---
    Case(
        "the same key twice in one object",
        line(order(45))[:-1] + ', "status": "shipped"}',
        P,
        order_id=45,
        expect={"status": "shipped"},
    ),
    Case("an exact copy of a record", line(order(46)), P, order_id=46),
    Case("... and its copy", line(order(46)), D),
    Case(
        "an older version of a record",
        line(order(48, updated_at="2025-11-02T10:00:00Z", status="shipped")),
        P,
        order_id=48,
        expect={"status": "shipped"},
    ),
    Case("... and the older one", line(order(48, updated_at="2025-11-01T10:00:00Z")), D),
    # --- invalid timestamps and dates ---
    Case("month 13", line(order(50, created_at="2025-13-45T99:00:00Z")), Q, "invalid timestamp for created_at"),
    Case("a word for a time", line(order(51, updated_at="yesterday")), Q, "invalid timestamp for updated_at"),
    Case("empty timestamp", line(order(52, created_at="")), Q, "invalid timestamp for created_at"),
    Case("30 February", line(order(53, promised_date="2025-02-30")), Q, "invalid date for promised_date"),
    Case(
        "offset +05:30 is converted to UTC",
        line(order(54, created_at="2025-11-01T10:00:00+05:30")),
        P,
        order_id=54,
        expect={"created_at": "2025-11-01 04:30:00"},
    ),
    Case("year 10000", line(order(56, created_at="10000-01-01T00:00:00Z")), Q, "invalid timestamp for created_at"),
    Case("year 0", line(order(57, promised_date="0000-06-01")), Q, "invalid date for promised_date"),
    Case(
        "no zone: read as UTC",
        line(order(55, created_at="2025-11-01 10:00:00")),
        P,
        order_id=55,
        expect={"created_at": "2025-11-01 10:00:00"},
    ),
]


def write_raw_run(lake_root: Path, lines: list[bytes]) -> None:
    run_dir = lake_root / "raw" / "orders" / "ingest_date=2025-12-01" / f"run_id={RUN_ID}"
    run_dir.mkdir(parents=True)
    part = run_dir / "part-00000.jsonl.gz"
    with gzip.open(part, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    manifest = {
        "dataset": "orders",
        "run_id": RUN_ID,
        "ingest_date": "2025-12-01",
        "status": "committed",
        "files": [{"name": part.name, "records": len(lines), "bytes": part.stat().st_size, "sha256": ""}],
        "records": len(lines),
    }
    (run_dir / "_manifest.json").write_text(json.dumps(manifest))


def as_text(case: Case) -> str:
    return case.text.decode("utf-8", errors="replace") if isinstance(case.text, bytes) else case.text


@pytest.fixture(scope="module")
def outcome(spark, repo_root, tmp_path_factory):
    """One transform over the whole corpus: (result, quarantined lines -> reasons, processed rows by order_id)."""
    from batchlake_core.contract import load_contract

    root = tmp_path_factory.mktemp("bad-records")
    write_raw_run(root, [c.text if isinstance(c.text, bytes) else c.text.encode() for c in CASES])
    lake, store = Lake.local(root), LocalObjectStore()
    contract = load_contract(repo_root / "pipelines" / "orders.yaml")
    result = transform_dataset(spark, contract, lake, "badrun", pending_raw_runs(lake, store, "orders"), {})
    quarantined: dict[str, list[str]] = {}
    for path in Path(result.quarantine_uri or root / "none").glob("*.json"):
        for text in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(text)
            quarantined.setdefault(entry.get("record", ""), []).append(entry["reason"])
    staged = spark.read.schema(processed_schema(contract)).parquet(spark_path(result.staging_uri))
    # Dates and times as Spark prints them, so a wrong value shows as text rather than failing the conversion.
    as_strings = [
        F.col(f.name).cast("string") if f.dataType.typeName() in ("date", "timestamp") else F.col(f.name)
        for f in staged.schema.fields
    ]
    processed = {r["order_id"]: r.asDict() for r in staged.select(*as_strings).collect()}
    return result, quarantined, processed


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


def test_counts_reconcile(outcome):
    result, quarantined, processed = outcome
    assert result.records_in == len(CASES)
    assert result.records_in == result.records_processed + result.records_duplicate + result.records_quarantined
    assert result.records_quarantined == sum(c.fate == Q for c in CASES) == sum(map(len, quarantined.values()))
    assert result.records_processed == sum(c.fate == P for c in CASES) == len(processed)
    assert result.records_duplicate == sum(c.fate == D for c in CASES)
    assert sum(result.quarantine_reasons.values()) == result.records_quarantined


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_record_has_its_expected_fate(outcome, case):
    _, quarantined, processed = outcome
    text = as_text(case)
    if case.fate == Q:
        reasons = quarantined.get(text)
        assert reasons, f"not quarantined; quarantine holds {len(quarantined)} other records"
        assert len(reasons) == 1 and case.reason in reasons[0], reasons
    elif case.fate == P:
        assert text not in quarantined, quarantined.get(text)
        row = processed.get(case.order_id)
        assert row is not None, f"order {case.order_id} is not in the processed rows"
        for column, value in case.expect.items():
            actual = row[column]
            assert actual == value, (column, str(actual)[:80])
        assert isinstance(row["total_amount"], Decimal)
    else:
        assert text not in quarantined


def test_a_timestamp_after_year_9999_is_quarantined_not_fatal(spark, repo_root, tmp_path):
    from batchlake_core.contract import load_contract

    write_raw_run(tmp_path, [line(order(1)).encode(), line(order(2, created_at="10000-01-01T00:00:00Z")).encode()])
    lake, store = Lake.local(tmp_path), LocalObjectStore()
    contract = load_contract(repo_root / "pipelines" / "orders.yaml")
    result = transform_dataset(spark, contract, lake, "year10000", pending_raw_runs(lake, store, "orders"), {})
    assert (result.records_processed, result.records_quarantined) == (1, 1)
    assert result.quarantine_reasons == {"invalid timestamp for created_at": 1}
    [quarantined] = [
        json.loads(x) for f in Path(result.quarantine_uri).glob("*.json") for x in f.read_text().splitlines()
    ]
    assert quarantined["reason"] == "invalid timestamp for created_at: 10000-01-01T00:00:00Z"
