"""Write bench/results/SUMMARY.md: one short table per benchmark result in bench/results/*.json.

    python bench/summary.py [--results bench/results]

The end-to-end result gets a per-stage table (full, fixed and incremental seconds; raw and marginal ratios; bytes
read) and notes on what reads the whole table; the others list their headline figures (seconds, records/s, peak
memory: numeric fields outside `settings` and per-attempt lists). The header names the machine's core count, its load
when the summary was written, and the date: figures from a loaded machine are slower.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path

HEADLINE_SUFFIXES = (
    "seconds",
    "per_s",
    "per_cpu_s",
    "rss_mb",
    "ratio",
    "records",
    "_over_duckdb",
    "_over_spark_transform",
)
SKIP_KEYS = {"settings", "runs", "segments", "mutations"}


def headline_figures(value, path: str = "") -> list[tuple[str, object]]:
    if isinstance(value, dict):
        rows = []
        for key, item in value.items():
            if key in SKIP_KEYS or key.endswith("all_runs"):
                continue
            rows += headline_figures(item, f"{path}.{key}" if path else key)
        return rows
    if isinstance(value, int | float) and not isinstance(value, bool) and path.endswith(HEADLINE_SUFFIXES):
        return [(path, value)]
    return []


def fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def ratio_cell(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def e2e_table(result: dict) -> list[str]:
    runs = result["runs"]
    if "minimal" not in runs:
        return ["This result predates the fixed-cost (minimal) run: rerun `make bench-e2e`.", ""]
    full, minimal, recent, uniform = (runs[k] for k in ("full", "minimal", "incremental_recent", "incremental_uniform"))
    machine, requests = result["machine"], {k: v["request"] for k, v in result["mutations"].items()}
    resolution = result["resolution"]
    lines = []
    if result.get("noisy"):
        lines += [
            f"> **NOISY — not comparable.** The 1-minute load average was {machine['load_average_at_start'][0]} "
            f"at start (limit {machine['max_load_at_start']}): other work shared the CPUs. Rerun `make bench-e2e` "
            "on a quiet machine.",
            "",
        ]
    lines += [
        f"{result['orders']:,} orders, {result['customers']:,} customers; `{result['command']}`. Runs, in order: "
        f"**full** from an empty lake → **minimal**: one order changed in the most recent day "
        f"(`{json.dumps(requests['minimal'])}`), whose stage seconds are each stage's *fixed* cost → "
        f"**incremental** 1% in the most recent days (`{json.dumps(requests['incremental_recent'])}`) → "
        f"**uniform** 1% over all dates, no target (`{json.dumps(requests['incremental_uniform'])}`).",
        "",
        "Raw ratio = incremental / full. Marginal ratio = (incremental - fixed) / (full - fixed): the target "
        "(≤ 10%) is judged on it. A stage whose full run costs less than its fixed cost plus "
        f"max({resolution['seconds']} s, {resolution['fraction_of_full']:.0%} of full) has no measurable variable "
        "cost (*fixed only*, marginal ratio undefined): it meets the target if the incremental run also stays "
        "under that bound. A negative marginal ratio means the incremental run "
        "was faster than the one-order run: noise. Process start-up (interpreter, imports, Spark session) is "
        "reported apart."
        + (
            f" The minimal and incremental runs were each run {result['repeats']['minimal']} times from the same "
            "lake state; their seconds are the median per stage (and of the wall time)."
            if "repeats" in result
            else ""
        ),
        "",
        "| orders stage | full s | fixed s | incremental s | raw ratio | marginal ratio | target ≤ 10% "
        "| uniform s | uniform marginal | full MB read | fixed MB read | incr. MB read |",
        "|---|---:|---:|---:|---:|---:|:---:|---:|---:|---:|---:|---:|",
    ]
    f, m, r = (run["datasets"]["orders"] for run in (full, minimal, recent))
    for stage, cost in result["ratios_recent"].items():
        marginal = "*fixed only*" if cost["basis"] == "fixed_only" else ratio_cell(cost["marginal_ratio"])
        uniform_cost = result["ratios_uniform"][stage]
        uniform_marginal = (
            "*fixed only*" if uniform_cost["basis"] == "fixed_only" else ratio_cell(uniform_cost["marginal_ratio"])
        )
        lines.append(
            f"| {stage} | {fmt(cost['full_seconds'])} | {fmt(cost['fixed_seconds'])} | "
            f"{fmt(cost['incremental_seconds'])} | {ratio_cell(cost['raw_ratio'])} | {marginal} | "
            f"{'yes' if cost['meets_target'] else '**no**'} | {fmt(uniform_cost['incremental_seconds'])} | "
            f"{uniform_marginal} | {fmt(f['logical_bytes'].get(stage, 0) / 1e6)} | "
            f"{fmt(m['logical_bytes'].get(stage, 0) / 1e6)} | {fmt(r['logical_bytes'].get(stage, 0) / 1e6)} |"
        )
    walls = [run.get("wall_seconds_median", run["wall_seconds"]) for run in (full, minimal, recent, uniform)]
    lines += [
        f"| *whole command (wall)* | {fmt(walls[0])} | {fmt(walls[1])} | {fmt(walls[2])} | "
        f"{ratio_cell(walls[2] / walls[0])} | {ratio_cell((walls[2] - walls[1]) / (walls[0] - walls[1]))} | | "
        f"{fmt(walls[3])} | {ratio_cell((walls[3] - walls[1]) / (walls[0] - walls[1]))} | | | |",
        f"| *process start-up* | {fmt(full['startup_seconds'])} | {fmt(minimal['startup_seconds'])} | "
        f"{fmt(recent['startup_seconds'])} | | | excluded | {fmt(uniform['startup_seconds'])} | | | | |",
        "",
        f"Target met: **{'yes' if result['target_met'] else 'no'}**. "
        f"Orders partitions touched: full {f['partitions_published']}, minimal {m['partitions_published']}, "
        f"incremental {r['partitions_published']}, uniform {uniform['datasets']['orders']['partitions_published']} "
        f"(of {uniform['datasets']['orders']['partitions_total']}). MB read = logical bytes (what the stage reads by "
        "design; see `bench/e2e_bench.py`).",
        "",
        f"- **Query reads the whole table, by design.** The query stage runs the contract's {f['query_files']} "
        "report SQL files over the whole processed table, so its bytes read grow with the total data, not with the "
        f"change: {fmt(f['logical_bytes'].get('query', 0) / 1e6)} MB in the full run, "
        f"{fmt(m['logical_bytes'].get('query', 0) / 1e6)} MB for one changed order, "
        f"{fmt(r['logical_bytes'].get('query', 0) / 1e6)} MB in the incremental run. The one-order run scans the "
        "whole table too, so that scan counts as the query's fixed cost: its marginal time can be small while its "
        "reads are not.",
        f"- **Validate reads the whole referenced table.** The orders `references` expectation reads all published "
        f"customers ({fmt(f['validate_reference_bytes'] / 1e6)} MB in the full run, "
        f"{fmt(r['validate_reference_bytes'] / 1e6)} MB in the incremental run), whatever the change size.",
        f"- Load average (1, 5, 15 min) at start {machine['load_average_at_start']}, at end "
        f"{machine['load_average_at_end']}; 1-min at the start of each run: "
        + ", ".join(f"{name} {runs[name]['load_average_at_start'][0]}" for name in result["run_order"])
        + ".",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    out = [
        "# Benchmark results",
        "",
        f"Machine: {os.cpu_count()} cores; load average {load} when this summary was written; "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}. Each section names its own run date.",
        "",
    ]
    for path in sorted(args.results.glob("*.json")):
        result = json.loads(path.read_text())
        date = result.get("date") or result.get("generated_at") or result.get("measured_at") or "?"
        out += [f"## {path.stem} (`{path.name}`, {date})", ""]
        if path.stem == "e2e" and "runs" in result:
            out += e2e_table(result)
        else:
            out += ["| figure | value |", "|---|---:|"]
            out += [f"| {name} | {fmt(value)} |" for name, value in headline_figures(result)[:30]]
        out.append("")
    (args.results / "SUMMARY.md").write_text("\n".join(out))
    print(f"wrote {args.results / 'SUMMARY.md'}")


if __name__ == "__main__":
    main()
