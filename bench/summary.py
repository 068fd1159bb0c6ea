"""Write bench/results/SUMMARY.md: one short table per benchmark result in bench/results/*.json.

    python bench/summary.py [--results bench/results]

The end-to-end result gets a per-stage table (full vs incremental); the others list their headline figures (seconds,
records/s, peak memory: numeric fields outside `settings` and per-attempt lists). The header names the machine's
core count, its load when the summary was written, and the date: figures from a loaded machine are slower.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path

HEADLINE_SUFFIXES = ("seconds", "per_s", "per_cpu_s", "rss_mb", "ratio", "records")
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


def e2e_table(result: dict) -> list[str]:
    runs = result["runs"]
    full, recent, uniform = runs["full"], runs["incremental_recent"], runs["incremental_uniform"]
    lines = [
        f"{result['orders']:,} orders, {result['customers']:,} customers; `{result['command']}`.",
        f"Incremental: {json.dumps(result['mutations']['incremental_recent']['request'])}; "
        f"uniform: {json.dumps(result['mutations']['incremental_uniform']['request'])}.",
        "",
        "| orders stage | full s | incremental s | ratio | target ≤ 10% | uniform 1% s "
        "| full logical MB | incr. logical MB |",
        "|---|---:|---:|---:|:---:|---:|---:|---:|",
    ]
    f, r, u = (run["datasets"]["orders"] for run in (full, recent, uniform))
    for stage, seconds in f["stage_seconds"].items():
        ratio = result["ratios_recent"][stage]["seconds"]
        lines.append(
            f"| {stage} | {fmt(seconds)} | {fmt(r['stage_seconds'].get(stage, 0.0))} | "
            f"{fmt(ratio)} | {'yes' if result['ratios_recent'][stage]['meets_target'] else '**no**'} | "
            f"{fmt(u['stage_seconds'].get(stage, 0.0))} | {fmt(f['logical_bytes'].get(stage, 0) / 1e6)} | "
            f"{fmt(r['logical_bytes'].get(stage, 0) / 1e6)} |"
        )
    lines += [
        f"| *whole command (wall)* | {fmt(full['wall_seconds'])} | {fmt(recent['wall_seconds'])} | "
        f"{fmt(recent['wall_seconds'] / full['wall_seconds'])} | | {fmt(uniform['wall_seconds'])} | | |",
        f"| *fixed start-up* | {fmt(full['startup_seconds'])} | {fmt(recent['startup_seconds'])} | | excluded | "
        f"{fmt(uniform['startup_seconds'])} | | |",
        "",
        f"Orders partitions touched: full {f['partitions_published']}, incremental {r['partitions_published']}, "
        f"uniform {u['partitions_published']} (of {f['partitions_total']}).",
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
        date = result.get("date") or result.get("generated_at") or "?"
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
