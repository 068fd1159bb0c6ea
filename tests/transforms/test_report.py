"""The run report and the Data Docs, from a real small run: self-contained, links resolve, render in headless Chromium.

Chromium tests need Debian's `chromium` (`apt-get install -y chromium`); they are skipped, with that reason, without it.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlparse

import pytest
from batchlake_core.contract import load_contract
from batchlake_core.layout import Lake
from batchlake_core.storage import LocalObjectStore
from batchlake_transforms.bookmarks import pending_raw_runs
from batchlake_transforms.data_docs import remote_asset_references, write_data_docs
from batchlake_transforms.job import transform_dataset
from batchlake_transforms.quality import validate
from batchlake_transforms.report import REPORT_NAME, RunSummary, render_html
from batchlake_transforms.schema import processed_schema

pytestmark = pytest.mark.spark

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="headless Chromium is not installed (apt-get install -y chromium)"
)
DAYS = 5


def order(i: int, day: int, currency: str = "EUR", customer: int | None = None, amount: float = 10.0) -> str:
    return json.dumps(
        {
            "order_id": i,
            "customer_id": customer if customer is not None else 1 + i % 50,
            "status": "paid",
            "channel": "web",
            "currency": currency,
            "total_amount": amount,
            "items": [{"sku": "S1", "name": "thing", "quantity": 1, "unit_price": amount}],
            "shipping": {"country": "DE", "city": "Berlin", "method": "standard"},
            "promised_date": "2025-06-09",
            "delivered_at": None,
            "created_at": f"2025-06-{day:02d}T08:00:00Z",
            "updated_at": "2025-06-10T00:00:00Z",
        }
    )


@pytest.fixture(scope="module")
def run(spark, repo_root, tmp_path_factory, raw_run):
    """One transform + validate + Data Docs + report, as the runner does it, on 5 days of orders."""
    root = tmp_path_factory.mktemp("lake")
    contract = load_contract(repo_root / "pipelines" / "orders.yaml")
    lines = [order(i, day=1 + i % DAYS) for i in range(1, 101)]
    lines += [order(101, 1, currency="eur"), order(102, 2, currency="usd"), order(103, 3, customer=9999)]
    lines += [order(5, 1 + 5 % DAYS), "{not json", order(104, 1, amount=-1.0)]  # a duplicate, two for quarantine
    raw_run(root, "orders", "20251201T000000Z-aaaaaa", lines)
    lake, store = Lake.local(root), LocalObjectStore()
    result = transform_dataset(spark, contract, lake, "r1", pending_raw_runs(lake, store, "orders"), {})
    staged = spark.read.schema(processed_schema(contract)).parquet(f"file://{result.staging_uri}")
    customers = spark.range(1, 51).withColumnRenamed("id", "customer_id")
    quality = validate(staged, contract, {("customers", "customer_id"): customers}, run_name="r1")

    report_dir = Path(lake.report_dir("orders", "r1"))
    results = root / "athena-results"
    results.mkdir()
    (results / "q1.csv").write_text("order_date,revenue\n2025-06-01,200.00\n")
    summary = RunSummary(
        dataset="orders",
        run_id="r1",
        environment="local",
        started_at="2025-12-01T00:00:00+00:00",
        finished_at="2025-12-01T00:01:00+00:00",
        status="published",
        published=True,
        records_ingested=len(lines),
        records_read=result.records_in,
        records_processed=result.records_processed,
        records_duplicate=result.records_duplicate,
        records_quarantined=result.records_quarantined,
        rows_per_partition=result.rows_per_partition,
        quarantine_uri=result.quarantine_uri,
        quarantine_reasons=result.quarantine_reasons,
        raw_runs=result.raw_runs,
        queries=[
            {
                "file": "sql/orders/revenue_by_day.sql",
                "query_id": "q1",
                "state": "SUCCEEDED",
                "rows": 1,
                "bytes_scanned": 2048,
                "output_location": str(results / "q1.csv"),
            }
        ],
        stage_seconds={"transform": 3.2, "validate": 0.9},
    )
    summary.add_quality(quality)
    summary.data_docs_index = write_data_docs(quality, str(report_dir), store)
    (report_dir / REPORT_NAME).write_text(render_html(summary, str(report_dir)), encoding="utf-8")
    return SimpleNamespace(
        root=root, report=report_dir / REPORT_NAME, summary=summary, quality=quality, report_dir=report_dir
    )


class References(HTMLParser):
    """Every URL a page loads by itself (scripts, style sheets, images) and every link."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source") and a.get("src"):
            self.loaded.append(a["src"])
        if tag == "link" and a.get("href"):
            self.loaded.append(a["href"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])


def references(html: str) -> References:
    parser = References()
    parser.feed(html)
    return parser


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def dump_dom(tmp_path: Path, page: Path) -> str:
    # virtual time lets the page's scripts (Data Docs: jQuery + bootstrap-table) run before the DOM is dumped
    return chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", page.as_uri()).stdout


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGBA bytes) of an 8-bit RGBA/RGB non-interlaced PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0
    bpp = 4 if color == 6 else 3
    raw, stride, rows = zlib.decompress(idat), width * bpp, []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for x in range(stride):
            left = line[x - bpp] if x >= bpp else 0
            up, up_left = previous[x], previous[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
        previous = line
        rgba = bytes(line) if bpp == 4 else b"".join(bytes(line[i : i + 3]) + b"\xff" for i in range(0, stride, 3))
        rows.append(rgba)
    return width, height, rows


# -- the HTML report ---------------------------------------------------------------------------------------------


def test_report_is_self_contained_and_its_links_resolve(run):
    html = run.report.read_text(encoding="utf-8")
    refs = references(html)
    assert refs.loaded == []  # no script, style sheet, font or image is fetched: everything is inline
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    targets = {href: (run.report_dir / unquote(href)).resolve() for href in refs.links}
    assert all(path.exists() for path in targets.values()), targets
    assert targets["data_docs/index.html"].is_file()
    assert any(p.name == "q1.csv" for p in targets.values())
    assert any(p == Path(run.summary.quarantine_uri).resolve() for p in targets.values())


def test_report_lists_every_expectation_with_sample_failing_values(run):
    outcomes = {o.description: o for o in run.quality.outcomes}
    regex = outcomes["currency matches ^[A-Z]{3}$"]
    assert not regex.success and regex.severity == "warn"
    assert sorted(regex.sample_unexpected) == ["eur", "usd"] and regex.unexpected_count == 2
    missing = outcomes["customer_id exists in customers.customer_id"]
    assert (missing.success, missing.sample_unexpected, missing.unexpected_count) == (False, ["9999"], 1)
    assert run.quality.publishable  # only warn expectations failed
    assert run.summary.records_quarantined == 2 and run.summary.records_duplicate == 1
    assert run.summary.reconciled


@needs_chromium
def test_report_renders_in_chromium_with_tables_and_chart(run, tmp_path):
    dom = dump_dom(tmp_path, run.report)
    rows = re.findall(r'<tr class="(passed|failed) (error|warn)">', dom)
    assert len(rows) == len(run.quality.outcomes) == 8
    assert rows.count(("failed", "warn")) == 2
    assert re.search(r'<span class="chip" title="9999">9999</span>', dom)
    bars = re.findall(r'<rect class="bar"[^>]*data-partition="order_date=([0-9-]+)" data-rows="(\d+)"', dom)
    assert len(bars) == DAYS
    assert sum(int(n) for _, n in bars) == run.summary.records_processed
    assert 'id="quarantine-link"' in dom and "failed filter: total_amount &gt;= 0" in dom

    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,1500", "--hide-scrollbars", run.report.as_uri())
    width, height, pixels = read_png(shot)
    assert (width, height) == (1200, 1500)
    # The chart's bars are the accent blue (#0969da); the page is mostly white.
    blue = sum(row[i : i + 3] == b"\x09\x69\xda" for row in pixels for i in range(0, len(row), 4))
    white = sum(row[i : i + 3] == b"\xff\xff\xff" for row in pixels for i in range(0, len(row), 4))
    assert blue > 2_000, "no chart bars painted"
    assert white > width * height // 2


# -- Data Docs ---------------------------------------------------------------------------------------------------


def test_data_docs_reference_no_remote_asset(run):
    site = run.report_dir / "data_docs"
    pages = sorted(site.rglob("*.html"))
    assert {p.relative_to(site).parts[0] for p in pages} == {"index.html", "expectations", "validations"}
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert remote_asset_references(html) == [], page
        for url in references(html).loaded:  # every local script / style sheet / icon exists
            assert (page.parent / unquote(urlparse(url).path)).exists(), (page, url)
    for css in site.rglob("*.css"):
        assert remote_asset_references(css.read_text(encoding="utf-8")) == [], css


@needs_chromium
def test_data_docs_index_renders_offline_with_its_table_filled(run, tmp_path):
    index = run.report_dir / "data_docs" / "index.html"
    dom = dump_dom(tmp_path, index)
    # bootstrap-table (vendored) turns the index's JSON into table rows: one per validation result
    validation_links = re.findall(r'href="(validations/orders_contract/[^"]+\.html)"', dom)
    assert len(set(validation_links)) == 1
    assert "r1" in validation_links[0]
    assert 'class="bootstrap-table' in dom  # the library ran
    page = dump_dom(tmp_path, index.parent / unquote(validation_links[0]))
    assert "expect_column_values_to_match_regex" in page or "values must match this regular expression" in page
    assert "eur" in page and "9999" in page  # sample failing values shown in the validation page


@pytest.mark.parametrize(("status", "published", "badge"), [("no new data", True, "neutral"), ("failed", False, "bad")])
def test_report_of_a_run_without_data_says_why(tmp_path, status, published, badge):
    summary = RunSummary(
        dataset="orders",
        run_id="r2",
        environment="local",
        started_at="2025-12-01T00:00:00+00:00",
        status=status,
        published=published,
        reason="the API answered 503: retry later",
    )
    html = render_html(summary, str(tmp_path))
    assert f'<span class="badge {badge}" id="status">{status}</span>' in html
    assert "the API answered 503: retry later" in html
    assert "No partition was touched by this run." in html and "No record was quarantined." in html
    assert 'id="data-docs-link"' not in html and "<rect" not in html
    assert references(html).loaded == []
