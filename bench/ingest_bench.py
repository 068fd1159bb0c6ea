"""Ingest benchmark (`make bench-ingest`): the same demo API pages fetched three ways, at each size.

  (a) batchlake: `ingest_dataset` with the shipped `pipelines/orders.yaml` (page_number, 1,000 records a page,
      concurrency 4, its 200 requests/s rate limit, incremental cursor, gzip parts + manifest + cursor);
  (b) dlt: `rest_api_source` into the filesystem destination as JSONL (gzip), run in `.venv-bench`, with the
      settings dlt's performance guide recommends for this shape (see DLT_ENV and dlt_child below);
  (c) a minimal loop: the same pages with the same 4 threads, orjson parse, gzip level 1 JSONL, no framework.

One demo API server per size, warmed first (every page fetched once, so no contender pays page generation).
Each contender runs in its own subprocess; the work is timed inside it (interpreter start-up and imports
excluded) and its peak RSS is the child's `ru_maxrss`. Record counts are checked. Results:
bench/results/ingest.json. Not a test: numbers depend on the machine and its load (recorded in the output).

python bench/ingest_bench.py [--sizes 200000 1000000] [--dlt-python .venv-bench/bin/python]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE_SIZE = 1000
CONCURRENCY = 4
RECORDS_PER_FILE = 100_000
# dlt settings from its performance guide: pages are yielded whole by rest_api; big extract/normalize files;
# normalize on both cores; no nested tables (the raw landing zone keeps records whole, like batchlake); no telemetry.
DLT_ENV = {
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "RUNTIME__LOG_LEVEL": "WARNING",
    "EXTRACT__DATA_WRITER__BUFFER_MAX_ITEMS": "10000",
    "EXTRACT__DATA_WRITER__FILE_MAX_ITEMS": str(RECORDS_PER_FILE),
    "NORMALIZE__WORKERS": "2",
    "NORMALIZE__DATA_WRITER__BUFFER_MAX_ITEMS": "10000",
    "NORMALIZE__DATA_WRITER__FILE_MAX_ITEMS": str(RECORDS_PER_FILE),
    "LOAD__WORKERS": "4",
    "LOAD__DELETE_COMPLETED_JOBS": "true",
}


# --- children: each prints one JSON line {"records": N, "seconds": S} -------------------------------------------


def batchlake_child(url: str, out: Path) -> dict:
    from batchlake_core.contract import load_contract
    from batchlake_core.layout import Lake
    from batchlake_ingest.pipeline import ingest_dataset

    os.environ["SHOP_API_URL"] = url
    contract = load_contract(REPO / "pipelines" / "orders.yaml")
    started = time.perf_counter()
    result = ingest_dataset(contract, Lake.local(out), "bench", progress=False)
    seconds = time.perf_counter() - started
    return {"records": result.records, "seconds": seconds, "files": result.files}


def minimal_child(url: str, out: Path, records: int) -> dict:
    import orjson
    import requests

    pages = range(1, -(-records // PAGE_SIZE) + 1)
    local = threading.local()

    def fetch(page: int) -> list:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        r = session.get(f"{url}/orders", params={"page": page, "per_page": PAGE_SIZE}, timeout=60)
        r.raise_for_status()
        return orjson.loads(r.content)["data"]

    out.mkdir(parents=True)
    started = time.perf_counter()
    written, part, in_part, f = 0, 0, 0, None
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        for data in pool.map(fetch, pages):
            if f is None:
                f = gzip.open(out / f"part-{part:05d}.jsonl.gz", "wb", compresslevel=1)  # noqa: SIM115 - closed below
            f.write(b"\n".join(map(orjson.dumps, data)) + b"\n")
            written += len(data)
            in_part += len(data)
            if in_part >= RECORDS_PER_FILE:
                f.close()
                f, part, in_part = None, part + 1, 0
    if f is not None:
        f.close()
    return {"records": written, "seconds": time.perf_counter() - started}


DLT_CHILD = r"""
import json, sys, time, gzip
from pathlib import Path
import dlt
from dlt.sources.rest_api import rest_api_source

url, out = sys.argv[1], Path(sys.argv[2])
source = rest_api_source(
    {
        "client": {"base_url": url},
        "resources": [
            {
                "name": "orders",
                "endpoint": {
                    "path": "orders",
                    "params": {"per_page": __PAGE_SIZE__},
                    "data_selector": "data",
                    "paginator": {"type": "page_number", "base_page": 1, "page_param": "page",
                                  "total_path": "meta.total_pages"},
                },
            }
        ],
    },
    max_table_nesting=0,
)
pipeline = dlt.pipeline(
    pipeline_name="bench_orders",
    pipelines_dir=str(out / "_pipelines"),
    destination=dlt.destinations.filesystem(bucket_url=(out / "data").as_uri()),
    dataset_name="raw",
)
started = time.perf_counter()
pipeline.run(source, loader_file_format="jsonl")
seconds = time.perf_counter() - started
records = 0
for path in (out / "data").rglob("orders/*"):
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    records += data.count(b"\n")
print(json.dumps({"records": records, "seconds": seconds}))
""".replace("__PAGE_SIZE__", str(PAGE_SIZE))


# --- parent ------------------------------------------------------------------------------------------------------


def run_child(cmd: list[str], env: dict | None = None) -> dict:
    """Run one contender; its JSON result plus peak RSS (MB) from the kernel's accounting of that child."""
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    stdout, stderr = process.stdout.read(), process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed ({process.returncode}):\n{stderr.decode()[-3000:]}")
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)  # with start-up, imports and child processes
    result["records_per_cpu_s"] = round(result["records"] / result["cpu_seconds"])  # client efficiency, load-proof
    result["records_per_s"] = round(result["records"] / result["seconds"])
    return result


def report_line(records: int, name: str, result: dict) -> None:
    print(
        f"  {records:>9,} {name:<13} {result['records_per_s']:>9,} records/s  {result['records_per_cpu_s']:>9,} "
        f"records/CPU-s  {result['peak_rss_mb']:>7} MB peak  (load {os.getloadavg()[0]:.1f})",
        flush=True,
    )


def warm(url: str, records: int) -> float:
    import requests

    started = time.perf_counter()

    def fetch(page: int) -> None:
        requests.get(f"{url}/orders", params={"page": page, "per_page": PAGE_SIZE}, timeout=120).raise_for_status()

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(fetch, range(1, -(-records // PAGE_SIZE) + 1)))
    return time.perf_counter() - started


def bench_size(records: int, work: Path, dlt_python: str | None, repeats: int) -> dict:
    from batchlake.demo_api.server import DemoApiServer

    me = [sys.executable, str(Path(__file__).resolve()), "--child"]
    cache_mb = max(256, records // 1000)  # ~0.53 MB a 1,000-order page: keep every page cached
    row: dict = {"records": records, "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    with DemoApiServer(orders=records, customers=1000, cache_mb=cache_mb) as api:
        row["warm_up_seconds"] = round(warm(api.url, records), 2)
        runs: dict[str, list[dict]] = {"minimal_loop": [], "batchlake": [], "dlt": []}
        for attempt in range(repeats):  # alternate, so machine noise hits both alike
            for name in ("minimal_loop", "batchlake"):
                out = work / f"{name}-{records}-{attempt}"
                shutil.rmtree(out, ignore_errors=True)
                result = run_child([*me, name, api.url, str(out), str(records)])
                assert result["records"] == records, (name, result)
                runs[name].append(result)
                shutil.rmtree(out, ignore_errors=True)
                report_line(records, name, result)
        if dlt_python:
            out = work / f"dlt-{records}"
            shutil.rmtree(out, ignore_errors=True)
            result = run_child([dlt_python, "-c", DLT_CHILD, api.url, str(out)], env=DLT_ENV)
            assert result["records"] == records, ("dlt", result)
            runs["dlt"].append(result)
            shutil.rmtree(out, ignore_errors=True)
            report_line(records, "dlt", result)
    for name, results in runs.items():
        if results:
            best = max(results, key=lambda r: r["records_per_s"])
            row[f"{name}_records_per_s"] = best["records_per_s"]
            row[f"{name}_peak_rss_mb"] = max(r["peak_rss_mb"] for r in results)
            row[f"{name}_records_per_cpu_s"] = max(r["records_per_cpu_s"] for r in results)
            row[f"{name}_all_runs"] = results
        else:
            row[f"{name}_records_per_s"] = None
    if row["dlt_records_per_s"]:
        row["batchlake_vs_dlt"] = round(row["batchlake_records_per_s"] / row["dlt_records_per_s"], 2)
    row["batchlake_vs_minimal_loop"] = round(row["batchlake_records_per_s"] / row["minimal_loop_records_per_s"], 3)
    row["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return row


def dlt_version(dlt_python: str | None) -> str | None:
    if not dlt_python:
        return None
    done = subprocess.run([dlt_python, "-c", "import dlt; print(dlt.__version__)"], capture_output=True, text=True)
    return done.stdout.strip() or None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--dlt-python", default=str(REPO / ".venv-bench" / "bin" / "python"))
    parser.add_argument("--no-dlt", action="store_true")
    parser.add_argument("--repeats", type=int, default=2, help="runs of batchlake and the minimal loop (best kept)")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "work" / "ingest")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "ingest.json")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        name, url, out, records = args.child
        if name == "batchlake":
            print(json.dumps(batchlake_child(url, Path(out))))
        else:
            print(json.dumps(minimal_child(url, Path(out), int(records))))
        return

    dlt_python = None if args.no_dlt or not Path(args.dlt_python).exists() else args.dlt_python
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "settings": {
            "page_size": PAGE_SIZE,
            "concurrency": CONCURRENCY,
            "records_per_file": RECORDS_PER_FILE,
            "gzip_level": 1,
            "batchlake_contract": "pipelines/orders.yaml (as shipped)",
            "dlt_version": dlt_version(dlt_python),
            "dlt_env": DLT_ENV,
            "dlt_source": "rest_api_source, page_number paginator (total_path meta.total_pages), max_table_nesting=0, "
            "filesystem destination, loader_file_format=jsonl",
            "timing": "work only, inside each child (no interpreter start-up); best of --repeats for batchlake and "
            "the minimal loop, one dlt run",
        },
        "by_records": {},
    }
    args.work.mkdir(parents=True, exist_ok=True)
    for records in args.sizes:
        print(f"{records:,} records:", flush=True)
        report["by_records"][str(records)] = bench_size(records, args.work, dlt_python, args.repeats)
    rows = list(report["by_records"].values())
    rss = [r["batchlake_peak_rss_mb"] for r in rows]
    report["targets"] = {
        "batchlake_at_least_10x_dlt": all((r.get("batchlake_vs_dlt") or 0) >= 10 for r in rows) if dlt_python else None,
        "batchlake_at_least_0_8x_minimal_loop": all(r["batchlake_vs_minimal_loop"] >= 0.8 for r in rows),
        "batchlake_peak_rss_below_200_mb": max(rss) < 200,
        "batchlake_peak_rss_flat_between_sizes_mb": round(max(rss) - min(rss), 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["targets"], indent=2))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
