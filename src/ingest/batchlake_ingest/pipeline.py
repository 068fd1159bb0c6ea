"""`ingest_dataset`: one run of one dataset, API pages -> raw parts -> manifest -> cursor.

    result = ingest_dataset(contract, Lake.local(".lake"), new_run_id())

Order of work: validate the configuration and resolve secrets (no I/O to the API yet), repair what a killed run
left (`IngestState.recover`), fetch pages (in parallel when the paginator knows the page count) and stream them
into gzip parts in page order, write the manifest (the commit), then the cursor. See docs/decisions/0200-*.md.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson
from batchlake_core.contract import ContractError, DatasetContract
from batchlake_core.layout import MANIFEST_NAME, Lake
from batchlake_core.storage import ObjectStore, store_for

from batchlake_ingest import __version__, faults
from batchlake_ingest.auth import build_auth
from batchlake_ingest.client import Page, RestClient, safe_url
from batchlake_ingest.errors import IngestError
from batchlake_ingest.incremental import CursorTracker
from batchlake_ingest.paginators import BasePaginator, PageRequest, create_paginator
from batchlake_ingest.progress import make_progress
from batchlake_ingest.secret_refs import redact
from batchlake_ingest.state import IngestState
from batchlake_ingest.writer import PartFile, RawWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    dataset: str
    run_id: str
    records: int  # written to raw by this run (after boundary duplicates were dropped)
    files: int
    pages: int
    manifest_uri: str  # always written, also for 0 records, so every run is recorded
    cursor_before: str | None
    cursor_after: str | None
    seconds: float
    ingest_date: str = ""
    duplicates_dropped: int = 0
    requests: int = 0
    retries: int = 0
    already_committed: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(ts: datetime) -> str:
    return ts.isoformat(timespec="seconds").replace("+00:00", "Z")


def iter_pages(
    client: RestClient,
    paginator: BasePaginator,
    request: PageRequest,
    concurrency: int,
    on_plan: Callable[[int], None] | None = None,
) -> Iterator[Page]:
    """Pages in order. After the first page, if the paginator can list every remaining request (known page count
    or total), they are fetched `concurrency` at a time and still yielded in order (and `on_plan` learns the page
    count); else one after the other."""
    paginator.init_request(request)
    page = client.fetch(request, 1)
    paginator.update_state(page.response, page.records, page.body)
    yield page
    planned = paginator.planned_requests(request)
    if planned is not None:
        if on_plan is not None:
            on_plan(1 + len(planned))
        yield from _fetch_in_order(client, planned, concurrency)
        return
    number = 1
    while paginator.has_next_page:
        paginator.update_request(request)
        number += 1
        page = client.fetch(request, number)
        paginator.update_state(page.response, page.records, page.body)
        yield page


def _fetch_in_order(client: RestClient, planned: list[PageRequest], concurrency: int) -> Iterator[Page]:
    """Fetch planned pages with `concurrency` threads, at most 2x that many pages held, yielded in plan order."""
    if concurrency <= 1:
        for number, request in enumerate(planned, start=2):
            yield client.fetch(request, number)
        return
    todo = iter(enumerate(planned, start=2))
    pending: deque[Future[Page]] = deque()
    pool = ThreadPoolExecutor(concurrency, thread_name_prefix="ingest-fetch")

    def submit_next() -> None:
        item = next(todo, None)
        if item is not None:
            pending.append(pool.submit(client.fetch, item[1], item[0]))

    try:
        for _ in range(2 * concurrency):
            submit_next()
        while pending:
            page = pending.popleft().result()
            submit_next()
            yield page
    finally:
        client.cancel()  # no-op after success; on error, in-flight retries stop at their next attempt
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)


def _committed_result(store: ObjectStore, contract: DatasetContract, run_id: str, manifest_uri: str) -> IngestResult:
    manifest = orjson.loads(store.get_bytes(manifest_uri))
    cursor = manifest.get("cursor") or {}
    return IngestResult(
        dataset=contract.dataset,
        run_id=run_id,
        records=manifest["records"],
        files=len(manifest["files"]),
        pages=0,
        manifest_uri=manifest_uri,
        cursor_before=cursor.get("previous"),
        cursor_after=cursor.get("value"),
        seconds=0.0,
        ingest_date=manifest["ingest_date"],
        already_committed=True,
    )


def ingest_dataset(
    contract: DatasetContract,
    lake: Lake,
    run_id: str,
    store: ObjectStore | None = None,
    progress: bool | None = None,
) -> IngestResult:
    """Ingest one run of `contract.dataset` into the raw zone of `lake`; exactly once across crashes.

    Raises IngestError (one line, no secrets) for anything a user can fix.
    """
    started = time.monotonic()
    started_at = _utc_now()
    source = contract.source
    store = store or store_for(lake.zone("raw"))

    # 1. configuration and secrets, before any I/O
    try:
        base_url = source.resolved_base_url()
    except ContractError as e:
        raise IngestError(f"{contract.dataset}: source.base_url: {e}") from None
    paginator = create_paginator(source.paginator.model_dump())
    auth = build_auth(source.auth, source.timeout_seconds)
    client = RestClient(source, auth, base_url)
    source_url = safe_url(client.url)

    # 2. repair what a killed run left, then read the cursor of the last committed run
    state = IngestState(store, lake.state_dir(contract.dataset))
    state.recover()
    ingest_date = started_at.date().isoformat()
    run_uri = lake.raw_run(contract.dataset, ingest_date, run_id)
    manifest_uri = f"{run_uri}/{MANIFEST_NAME}"
    if store.exists(manifest_uri):  # this run id is already committed (a retried job): nothing to do
        return _committed_result(store, contract, run_id, manifest_uri)
    tracker = None
    extra_params: dict[str, Any] = {}
    if source.incremental:
        tracker = CursorTracker(source.incremental, source.primary_key, state.load_cursor())
        extra_params[source.incremental.request_param] = tracker.request_value()
    cursor_before = tracker.previous_value if tracker else None
    log.info(
        "ingest started",
        extra={"fields": {"dataset": contract.dataset, "run_id": run_id, "url": source_url, "cursor": cursor_before}},
    )

    # 3. pages -> parts
    state.begin_run(run_id, run_uri)
    writer = RawWriter(store, run_uri, source.records_per_file)
    reporter = make_progress(contract.dataset, progress)
    pages = 0
    try:
        first_request = client.first_request(extra_params)
        for page in iter_pages(client, paginator, first_request, source.concurrency, reporter.set_total_pages):
            records = tracker.filter_page(page.records, f"page {page.number} ({page.url})") if tracker else page.records
            writer.write(records)
            pages += 1
            reporter.update(pages, writer.records)
            if pages == 1:
                faults.point("after_first_page")
        parts = writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        client.close()
        reporter.close()

    # 4. manifest (the commit), then the cursor
    next_state = tracker.next_state() if tracker else None
    result = IngestResult(
        dataset=contract.dataset,
        run_id=run_id,
        records=writer.records,
        files=len(parts),
        pages=pages,
        manifest_uri=manifest_uri,
        cursor_before=cursor_before,
        cursor_after=next_state.value if next_state else None,
        seconds=0.0,
        ingest_date=ingest_date,
        duplicates_dropped=tracker.dropped if tracker else 0,
        requests=client.requests_made,
        retries=client.budget.retries,
    )
    manifest = build_manifest(result, contract, parts, started_at, source_url)
    state.commit(run_id, manifest_uri, manifest, next_state)
    result = replace(result, seconds=round(time.monotonic() - started, 3))
    log.info("ingest committed", extra={"fields": result.to_json()})
    return result


def build_manifest(
    result: IngestResult, contract: DatasetContract, parts: list[PartFile], started_at: datetime, source_url: str
) -> dict[str, Any]:
    """The run's `_manifest.json` (shared format, see docs/decisions/0200), secrets blanked."""
    incremental = contract.source.incremental
    manifest = {
        "dataset": result.dataset,
        "run_id": result.run_id,
        "ingest_date": result.ingest_date,
        "status": "committed",
        "files": [p.to_json() for p in parts],
        "records": result.records,
        "cursor": (
            {"field": incremental.cursor_field, "previous": result.cursor_before, "value": result.cursor_after}
            if incremental
            else None
        ),
        "started_at": _iso(started_at),
        "committed_at": _iso(_utc_now()),
        "source": {"url": source_url},
        "stats": {
            "pages": result.pages,
            "requests": result.requests,
            "retries": result.retries,
            "duplicates_dropped": result.duplicates_dropped,
        },
        "versions": {"batchlake-ingest": __version__},
    }
    return orjson.loads(redact(orjson.dumps(manifest).decode()))
