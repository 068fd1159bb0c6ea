"""End-to-end benchmark (`make bench-e2e`): does a run's cost grow with the new data, not with the total?

    python bench/e2e_bench.py [--orders 1000000] [--customers 200000] [--work bench/work/e2e]
                              [--out bench/results/e2e.json]

One demo API (`--orders` orders, `--customers` customers) and one empty lake. Every run is the real command,
`batchlake run --env local --lake <lake>` in a subprocess, over every contract in pipelines/ (customers first:
the orders contract's `references` expectation reads the published customers). Three runs:

1. `full`: from an empty lake;
2. `incremental_recent`: after `POST /_admin/mutate` changed 0.8% and added 0.2% of the orders (1% in all), the
   changes among the orders of the most recent 7 days (the common shape: late updates to recent orders);
3. `incremental_uniform`: after another 1% changed, spread uniformly over all dates (reported, no target: every
   date partition is touched, so the transform must rewrite every partition).

Per run: wall seconds of the command; `stage_seconds` of each dataset from its `summary.json`; `startup_seconds`
(wall minus the stages: interpreter start, imports, Spark session start — fixed per process, reported apart);
bytes per stage. Bytes are measured two ways:
- `logical_bytes`: what the stage had to read by design — ingest: raw bytes written (gzip, from the manifest);
  transform: the pending raw files + the published Parquet of the partitions it merged with (sizes before the run);
  validate: the staged Parquet + the published data of `references` datasets; query: DuckDB's `bytes_scanned`;
- `rchar_bytes`: bytes returned by read() syscalls of the whole process tree (Python + JVM, from /proc/<pid>/io;
  includes sockets, jars and class files), attributed to a stage by the time of the run's progress lines on stderr.
Target (from the issue): incremental_recent ≤ 10% of full in every stage except fixed start-up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
STAGE_LINE = re.compile(r"▶ (\w+): (\w+)")
TARGET_RATIO = 0.10
MUTATIONS = {
    "incremental_recent": {"changed_fraction": 0.008, "new_fraction": 0.002, "recent_days": 7, "seed": 11},
    "incremental_uniform": {"changed_fraction": 0.01, "new_fraction": 0.0, "recent_days": None, "seed": 12},
}


# --- process-tree I/O counters ------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            kids += [int(c) for c in (task / "children").read_text().split()]
    return kids


def tree_rchar(root: int) -> int:
    """Sum of `rchar` over a process and its live descendants (0 for processes that are gone)."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            for line in Path(f"/proc/{pid}/io").read_text().splitlines():
                if line.startswith("rchar:"):
                    total += int(line.split()[1])
        except OSError:
            continue
        stack += _children(pid)
    return total


# --- lake measurements --------------------------------------------------------------------------------------------


def dir_bytes(path: Path, pattern: str = "*") -> int:
    return sum(p.stat().st_size for p in path.rglob(pattern) if p.is_file()) if path.exists() else 0


def partition_bytes(lake: Path, dataset: str) -> dict[str, int]:
    """Parquet bytes per published partition folder (relative path -> bytes)."""
    root = lake / "processed" / dataset
    sizes: dict[str, int] = {}
    for f in root.rglob("*.parquet") if root.exists() else []:
        rel = str(f.parent.relative_to(root))
        sizes[rel] = sizes.get(rel, 0) + f.stat().st_size
    return sizes


def raw_run_bytes(lake: Path, dataset: str, run_ids: list[str]) -> int:
    total = 0
    for manifest in (lake / "raw" / dataset).rglob("_manifest.json"):
        body = json.loads(manifest.read_text())
        if body["run_id"] in run_ids:
            total += sum(int(f["bytes"]) for f in body["files"])
    return total


# --- one run ------------------------------------------------------------------------------------------------------


def run_pipeline(lake: Path, api_url: str, log_path: Path) -> dict:
    """`batchlake run --env local` in a subprocess; returns wall seconds and per-segment rchar bytes."""
    env = {**os.environ, "SHOP_API_URL": api_url, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    cmd = [str(Path(sys.executable).with_name("batchlake")), "run", "--env", "local", "--lake", str(lake)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    segments: dict[str, dict[str, float]] = {}
    current, last_t, last_rchar = "startup/python", start, 0
    peak = {"rchar": 0}

    def poll_rchar() -> None:  # the JVM's counters vanish when it exits: keep the last value seen
        while proc.poll() is None:
            peak["rchar"] = max(peak["rchar"], tree_rchar(proc.pid))
            time.sleep(0.2)

    poller = threading.Thread(target=poll_rchar, daemon=True)
    poller.start()
    with open(log_path, "w", encoding="utf-8") as log:
        assert proc.stderr is not None
        for line in proc.stderr:
            log.write(line)
            now, rchar = time.perf_counter(), max(peak["rchar"], tree_rchar(proc.pid))
            peak["rchar"] = rchar
            seg = segments.setdefault(current, {"seconds": 0.0, "rchar_bytes": 0})
            seg["seconds"] += now - last_t
            seg["rchar_bytes"] += rchar - last_rchar
            last_t, last_rchar = now, rchar
            if m := STAGE_LINE.search(line):
                current = f"{m.group(1)}/{m.group(2)}"
            elif "starting Spark" in line:
                current = "startup/spark"
    code = proc.wait()
    poller.join()
    wall = time.perf_counter() - start
    seg = segments.setdefault(current, {"seconds": 0.0, "rchar_bytes": 0})
    seg["seconds"] += wall - (last_t - start)
    seg["rchar_bytes"] += max(peak["rchar"] - last_rchar, 0)
    if code != 0:
        raise SystemExit(f"batchlake run failed with exit code {code}; see {log_path}")
    for s in segments.values():
        s["seconds"] = round(s["seconds"], 3)
    return {"wall_seconds": round(wall, 3), "segments": segments}


def latest_summary(lake: Path, dataset: str, after: set[str]) -> dict:
    reports = lake / "reports" / dataset
    new = sorted(p.name for p in reports.iterdir() if p.name not in after)
    if not new:
        raise SystemExit(f"no new report for {dataset}")
    return json.loads((reports / new[-1] / "summary.json").read_text())


def measure(lake: Path, api_url: str, name: str, work: Path, datasets: list[str], references: dict) -> dict:
    before_reports = {d: {p.name for p in (lake / "reports" / d).glob("*")} for d in datasets}
    before_parts = {d: partition_bytes(lake, d) for d in datasets}
    print(f"[e2e] {name}: batchlake run …", flush=True)
    proc = run_pipeline(lake, api_url, work / f"{name}.log")
    result: dict = {"wall_seconds": proc["wall_seconds"], "datasets": {}}
    stage_total = 0.0
    for d in datasets:
        s = latest_summary(lake, d, before_reports[d])
        after_parts = partition_bytes(lake, d)
        touched = ["/".join(f"{k}={v}" for k, v in values.items()) for values in s.get("partitions_published") or []]
        logical = {
            "ingest": raw_run_bytes(lake, d, [s["run_id"]]),
            "transform": raw_run_bytes(lake, d, s["raw_runs"]) + sum(before_parts[d].get(p, 0) for p in touched),
            "validate": sum(after_parts.get(p, 0) for p in touched)
            + sum(sum(partition_bytes(lake, r).values()) for r in references.get(d, [])),
            "query": sum(int(q.get("bytes_scanned") or 0) for q in s.get("queries", [])),
        }
        rchar = {k.split("/")[1]: v["rchar_bytes"] for k, v in proc["segments"].items() if k.startswith(d + "/")}
        stage_total += sum(s["stage_seconds"].values())
        result["datasets"][d] = {
            "status": s["status"],
            "records_ingested": s["records_ingested"],
            "records_read": s["records_read"],
            "records_processed": s["records_processed"],
            "reconciled": s["reconciled"],
            "partitions_published": len(touched),
            "partitions_total": len(after_parts),
            "processed_table_rows": s["processed_table_rows"],
            "stage_seconds": s["stage_seconds"],
            "logical_bytes": {k: v for k, v in logical.items() if k in s["stage_seconds"]},
            "rchar_bytes": rchar,
        }
    result["stage_seconds_total"] = round(stage_total, 3)
    result["startup_seconds"] = round(proc["wall_seconds"] - stage_total, 3)
    result["spark_startup_seconds"] = proc["segments"].get("startup/spark", {}).get("seconds")
    result["segments"] = proc["segments"]
    return result


def ratios(full: dict, incr: dict, dataset: str) -> dict:
    """incremental / full, per stage of `dataset` (seconds and logical bytes)."""
    f, i = full["datasets"][dataset], incr["datasets"][dataset]
    out = {}
    for stage, secs in f["stage_seconds"].items():
        entry = {"seconds": round(i["stage_seconds"].get(stage, 0.0) / secs, 4) if secs else None}
        fb, ib = f["logical_bytes"].get(stage), i["logical_bytes"].get(stage)
        entry["logical_bytes"] = round(ib / fb, 4) if fb and ib is not None else None
        entry["meets_target"] = entry["seconds"] is not None and entry["seconds"] <= TARGET_RATIO
        out[stage] = entry
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=REPO / "bench/work/e2e")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/e2e.json")
    args = parser.parse_args()

    from batchlake.demo_api.server import DemoApiServer

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    lake = args.work / "lake"
    datasets = ["customers", "orders"]
    references = {"orders": ["customers"]}
    runs: dict[str, dict] = {}
    mutations: dict[str, dict] = {}
    print(f"[e2e] demo API with {args.orders:,} orders, {args.customers:,} customers …", flush=True)
    with DemoApiServer(orders=args.orders, customers=args.customers, cache_mb=64, startup_timeout=300) as api:
        runs["full"] = measure(lake, api.url, "full", args.work, datasets, references)
        for name, body in MUTATIONS.items():
            mutations[name] = requests.post(f"{api.url}/_admin/mutate", json=body, timeout=120).json()
            runs[name] = measure(lake, api.url, name, args.work, datasets, references)

    result = {
        "benchmark": "e2e",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "load_average_at_start": load_at_start,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "orders": args.orders,
        "customers": args.customers,
        "command": "batchlake run --env local --lake <lake>  (all contracts: customers, then orders)",
        "mutations": {k: {"request": MUTATIONS[k], "response": v} for k, v in mutations.items()},
        "full_run_seconds": runs["full"]["wall_seconds"],
        "incremental_run_seconds": runs["incremental_recent"]["wall_seconds"],
        "incremental_uniform_run_seconds": runs["incremental_uniform"]["wall_seconds"],
        "target": f"incremental_recent ≤ {TARGET_RATIO:.0%} of full in every orders stage (start-up excluded)",
        "ratios_recent": ratios(runs["full"], runs["incremental_recent"], "orders"),
        "ratios_uniform": ratios(runs["full"], runs["incremental_uniform"], "orders"),
        "runs": runs,
    }
    result["target_met"] = all(r["meets_target"] for r in result["ratios_recent"].values())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    headline = ("full_run_seconds", "incremental_run_seconds", "ratios_recent")
    print(json.dumps({k: result[k] for k in headline}, indent=1))
    print(f"[e2e] wrote {args.out}")


if __name__ == "__main__":
    main()
