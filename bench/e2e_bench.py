"""End-to-end benchmark (`make bench-e2e`): does a run's cost grow with the new data, not with the total?

    python bench/e2e_bench.py [--orders 1000000] [--customers 200000] [--work bench/work/e2e]
                              [--out bench/results/e2e.json] [--max-load 1.5] [--wait-quiet SECONDS]
                              [--allow-noisy]

One demo API (`--orders` orders, `--customers` customers) and one empty lake. Every run is the real command,
`batchlake run --env local --lake <lake>` in a subprocess, over every contract in pipelines/ (customers first:
the orders contract's `references` expectation reads the published customers). Four runs, in this order
(docs/decisions/0604-e2e-fixed-cost-per-stage.md says why):

1. `full`: from an empty lake;
2. `minimal`: after `POST /_admin/mutate` changed exactly ONE order among those created in the most recent day:
   its per-stage seconds are each stage's fixed cost, the cost of running the stage at all;
3. `incremental_recent`: after the API changed 0.8% and added 0.2% of the orders (1% in all), the changes among the
   orders of the most recent 7 days (the common shape: late updates to recent orders);
4. `incremental_uniform`: after another 1% changed, spread uniformly over all dates (reported, no target: every
   date partition is touched, so the transform must rewrite every partition).

Per run: wall seconds of the command; `stage_seconds` of each dataset from its `summary.json`; `startup_seconds`
(wall minus the stages: interpreter start, imports, Spark session start — fixed per process, reported apart);
bytes per stage. Bytes are measured two ways:
- `logical_bytes`: what the stage had to read by design — ingest: raw bytes written (gzip, from the manifest);
  transform: the pending raw files + the published Parquet of the partitions it merged with (sizes before the run);
  validate: the staged Parquet + the published data of `references` datasets; query: DuckDB's `bytes_scanned`;
- `rchar_bytes`: bytes returned by read() syscalls of the whole process tree (Python + JVM, from /proc/<pid>/io;
  includes sockets, jars and class files), attributed to a stage by the time of the run's progress lines on stderr.

Per orders stage, with fixed = the `minimal` run's seconds: raw ratio = incremental / full; marginal ratio =
(incremental - fixed) / (full - fixed). Target (from the issue): the incremental run costs at most 10% of the full
run in every stage except fixed start-up, judged on the marginal ratio (see `stage_costs`).
A 1-minute load average above `--max-load` at start (after waiting up to `--wait-quiet` seconds for it to drop) makes
the bench refuse to run, unless `--allow-noisy`: then the result is written with `"noisy": true`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
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
# A stage whose full run is within this of its fixed cost has no measurable variable cost (see `stage_costs`).
RESOLUTION_SECONDS = 0.05  # summary.json rounds to the millisecond; timer and scheduler jitter is larger
RESOLUTION_FRACTION = 0.05  # assumed run-to-run spread of one stage on a quiet machine (not measured here)
MAX_LOAD_DEFAULT = 1.5
RUN_ORDER = ("full", "minimal", "incremental_recent", "incremental_uniform")
# The two runs the target compares with the full run are short and noisy (a stage's fixed cost is often < 0.1 s):
# each is repeated from the same lake state and judged on the median of its repeats, per stage.
REPEATED_RUNS = ("minimal", "incremental_recent")
REPEATS_DEFAULT = 3


def mutations(orders: int) -> dict[str, dict]:
    """The `/_admin/mutate` body before each run but the first. `minimal`: 1/orders of the orders = exactly one."""
    return {
        "minimal": {"changed_fraction": 1 / orders, "new_fraction": 0.0, "recent_days": 1, "seed": 13},
        "incremental_recent": {"changed_fraction": 0.008, "new_fraction": 0.002, "recent_days": 7, "seed": 11},
        "incremental_uniform": {"changed_fraction": 0.01, "new_fraction": 0.0, "recent_days": None, "seed": 12},
    }


# --- process-tree I/O counters ------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):  # the process may exit while we look: then it has no children to count
        for task in Path(f"/proc/{pid}/task").iterdir():
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
    """Parquet bytes per published partition (`order_date=2025-06-01`, "" unpartitioned -> bytes of its version
    folder, `<partition>/<run_id>/`; between runs a partition holds one version)."""
    root = lake / "processed" / dataset
    sizes: dict[str, int] = {}
    for f in root.rglob("*.parquet") if root.exists() else []:
        rel = f.parent.parent.relative_to(root).as_posix()
        rel = "" if rel == "." else rel
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
    load_at_start = load_average()
    print(f"[e2e] {name}: batchlake run … (load average {load_at_start[0]})", flush=True)
    proc = run_pipeline(lake, api_url, work / f"{name}.log")
    result: dict = {"wall_seconds": proc["wall_seconds"], "load_average_at_start": load_at_start, "datasets": {}}
    stage_total = 0.0
    for d in datasets:
        s = latest_summary(lake, d, before_reports[d])
        after_parts = partition_bytes(lake, d)
        touched = ["/".join(f"{k}={v}" for k, v in values.items()) for values in s.get("partitions_published") or []]
        reference_bytes = sum(sum(partition_bytes(lake, r).values()) for r in references.get(d, []))
        logical = {
            "ingest": raw_run_bytes(lake, d, [s["run_id"]]),
            "transform": raw_run_bytes(lake, d, s["raw_runs"]) + sum(before_parts[d].get(p, 0) for p in touched),
            "validate": sum(after_parts.get(p, 0) for p in touched) + reference_bytes,
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
            "validate_reference_bytes": reference_bytes if "validate" in s["stage_seconds"] else 0,
            "query_files": len(s.get("queries", [])),
            "rchar_bytes": rchar,
        }
    result["stage_seconds_total"] = round(stage_total, 3)
    result["startup_seconds"] = round(proc["wall_seconds"] - stage_total, 3)
    result["spark_startup_seconds"] = proc["segments"].get("startup/spark", {}).get("seconds")
    result["segments"] = proc["segments"]
    return result


def measure_repeated(
    lake: Path, api_url: str, name: str, work: Path, datasets: list[str], references: dict, repeats: int
) -> dict:
    """`measure` `repeats` times from the same lake state: before each rerun the lake is restored from a copy made
    before the first, cursors included, so the API serves the same changes again and every repeat does the same
    work. Returns the first run, plus `repeats`: every repeat's wall and stage seconds (`stage_costs` takes their
    medians); the lake is left as the last repeat left it."""
    snapshot = work / f"{name}-lake-before"
    if repeats > 1:  # (the full run starts from no lake at all)
        shutil.copytree(lake, snapshot, symlinks=True)
    measured = []
    for i in range(repeats):
        if i:
            shutil.rmtree(lake)
            shutil.copytree(snapshot, lake, symlinks=True)
        label = f"{name}-{i + 1}of{repeats}" if repeats > 1 else name  # also names the run's log file
        measured.append(measure(lake, api_url, label, work, datasets, references))
    shutil.rmtree(snapshot, ignore_errors=True)
    first = measured[0]
    first["repeats"] = [
        {
            "wall_seconds": run["wall_seconds"],
            "stage_seconds": {d: run["datasets"][d]["stage_seconds"] for d in datasets},
            "load_average_at_start": run["load_average_at_start"],
        }
        for run in measured
    ]
    first["wall_seconds_median"] = statistics.median(run["wall_seconds"] for run in measured)
    return first


def stage_seconds(run: dict, dataset: str) -> dict[str, float]:
    """A run's seconds per stage of `dataset`: the median over its repeats when it was repeated."""
    if "repeats" not in run:
        return run["datasets"][dataset]["stage_seconds"]
    per_repeat = [r["stage_seconds"][dataset] for r in run["repeats"]]
    return {stage: round(statistics.median(r.get(stage, 0.0) for r in per_repeat), 3) for stage in per_repeat[0]}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def stage_costs(full: dict, minimal: dict, incr: dict, dataset: str, with_target: bool = True) -> dict:
    """Per stage of `dataset`: the incremental run's cost against the full run's, raw and net of the fixed cost.

    fixed = the `minimal` run's seconds (one changed order: the cost of running the stage at all); a repeated run
    counts with its median per stage (`stage_seconds`);
    raw_ratio = incr / full; marginal_ratio = (incr - fixed) / (full - fixed), the target's measure.
    When the full run costs less than fixed + resolution (max(RESOLUTION_SECONDS, RESOLUTION_FRACTION * full)), the
    stage has no measurable variable cost and the marginal ratio is undefined (None, basis `fixed_only`): it then
    meets the target if the incremental run also costs less than fixed + resolution.
    """
    f, i = (run["datasets"][dataset] for run in (full, incr))
    full_seconds, fixed_seconds, incr_seconds = (stage_seconds(run, dataset) for run in (full, minimal, incr))
    out = {}
    for stage, full_s in full_seconds.items():
        fixed = fixed_seconds[stage]  # `check_minimal_run` made sure the minimal run ran every stage
        incr_s = incr_seconds.get(stage, 0.0)
        variable_full, variable_incr = full_s - fixed, incr_s - fixed
        resolution = max(RESOLUTION_SECONDS, RESOLUTION_FRACTION * full_s)
        measurable = variable_full >= resolution
        fb, ib = f["logical_bytes"].get(stage), i["logical_bytes"].get(stage)
        entry = {
            "full_seconds": full_s,
            "fixed_seconds": fixed,
            "incremental_seconds": incr_s,
            "raw_ratio": round(incr_s / full_s, 4) if full_s else None,
            "marginal_ratio": round(variable_incr / variable_full, 4) if measurable else None,
            "basis": "marginal" if measurable else "fixed_only",
            "logical_bytes_ratio": round(ib / fb, 4) if fb and ib is not None else None,
        }
        if with_target:
            entry["meets_target"] = (
                entry["marginal_ratio"] <= TARGET_RATIO if measurable else variable_incr <= resolution
            )
        out[stage] = entry
    return out


def check_minimal_run(minimal: dict, full: dict, dataset: str) -> None:
    """The fixed-cost run must carry exactly one order through every stage the full run had; else stop now."""
    d = minimal["datasets"][dataset]
    missing = sorted(set(full["datasets"][dataset]["stage_seconds"]) - set(d["stage_seconds"]))
    if d["records_ingested"] != 1 or d["partitions_published"] != 1 or missing:
        raise SystemExit(
            f"minimal run: {dataset} ingested {d['records_ingested']} records, published {d['partitions_published']}"
            f" partitions, skipped stages {missing or 'none'}; expected 1, 1, none: the fixed costs would be wrong"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=REPO / "bench/work/e2e")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/e2e.json")
    parser.add_argument("--max-load", type=float, default=MAX_LOAD_DEFAULT, help="highest 1-min load average at start")
    parser.add_argument("--allow-noisy", action="store_true", help='run anyway above --max-load; marks "noisy": true')
    parser.add_argument(
        "--wait-quiet", type=float, default=0, metavar="SECONDS", help="wait up to this long for the load to drop"
    )
    parser.add_argument(
        "--repeats", type=int, default=REPEATS_DEFAULT, help=f"runs of {' and '.join(REPEATED_RUNS)} (median taken)"
    )
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    deadline = time.monotonic() + args.wait_quiet
    while load_average()[0] > args.max_load and time.monotonic() < deadline:
        time.sleep(5)  # e.g. after `make bench`'s earlier benchmarks: the 1-min average takes a minute or two to fall
    load_at_start = load_average()
    noisy = load_at_start[0] > args.max_load
    if noisy and not args.allow_noisy:
        raise SystemExit(
            f"e2e bench: 1-min load average is {load_at_start[0]} (> {args.max_load}): other work would skew every "
            "figure; wait for a quiet machine, or pass --allow-noisy to write results marked noisy"
        )

    from batchlake.demo_api.server import DemoApiServer

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    lake = args.work / "lake"
    datasets = ["customers", "orders"]
    references = {"orders": ["customers"]}
    bodies = mutations(args.orders)
    runs: dict[str, dict] = {}
    responses: dict[str, dict] = {}
    print(f"[e2e] demo API with {args.orders:,} orders, {args.customers:,} customers …", flush=True)
    with DemoApiServer(orders=args.orders, customers=args.customers, cache_mb=64, startup_timeout=300) as api:
        for name in RUN_ORDER:
            if name in bodies:
                answer = requests.post(f"{api.url}/_admin/mutate", json=bodies[name], timeout=120)
                answer.raise_for_status()
                responses[name] = answer.json()
            if name == "minimal" and (responses[name]["changed"], responses[name]["new"]) != (1, 0):
                raise SystemExit(f"minimal mutation changed {responses[name]}; expected exactly one changed order")
            repeats = args.repeats if name in REPEATED_RUNS else 1
            runs[name] = measure_repeated(lake, api.url, name, args.work, datasets, references, repeats)
            if name == "minimal":
                check_minimal_run(runs["minimal"], runs["full"], "orders")

    full, minimal = runs["full"], runs["minimal"]
    result = {
        "benchmark": "e2e",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "noisy": noisy,
        "machine": {
            "cores": os.cpu_count(),
            "load_average_at_start": load_at_start,
            "load_average_at_end": load_average(),
            "max_load_at_start": args.max_load,
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "orders": args.orders,
        "customers": args.customers,
        "command": "batchlake run --env local --lake <lake>  (all contracts: customers, then orders)",
        "run_order": list(RUN_ORDER),
        "mutations": {k: {"request": bodies[k], "response": v} for k, v in responses.items()},
        "full_run_seconds": full["wall_seconds_median"],
        "minimal_run_seconds": minimal["wall_seconds_median"],
        "incremental_run_seconds": runs["incremental_recent"]["wall_seconds_median"],
        "incremental_uniform_run_seconds": runs["incremental_uniform"]["wall_seconds_median"],
        "repeats": {name: args.repeats for name in REPEATED_RUNS},
        "fixed_seconds": stage_seconds(minimal, "orders"),
        "target": f"incremental_recent: (incremental - fixed) / (full - fixed) ≤ {TARGET_RATIO:.0%} in every orders "
        "stage; fixed = the minimal run (one changed order); process start-up reported apart",
        "resolution": {"seconds": RESOLUTION_SECONDS, "fraction_of_full": RESOLUTION_FRACTION},
        "ratios_recent": stage_costs(full, minimal, runs["incremental_recent"], "orders"),
        "ratios_uniform": stage_costs(full, minimal, runs["incremental_uniform"], "orders", with_target=False),
        "runs": runs,
    }
    result["target_met"] = all(r["meets_target"] for r in result["ratios_recent"].values())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    headline = ("noisy", "full_run_seconds", "minimal_run_seconds", "incremental_run_seconds", "ratios_recent")
    print(json.dumps({k: result[k] for k in headline}, indent=1))
    print(
        f"[e2e] wrote {args.out}{'  (NOISY: load average above ' + str(args.max_load) + ' at start)' if noisy else ''}"
    )


if __name__ == "__main__":
    main()
