"""The e2e benchmark's verdict arithmetic: medians of repeated runs, marginal ratios, fixed-only stages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def e2e_bench():
    spec = importlib.util.spec_from_file_location("e2e_bench", REPO / "bench" / "e2e_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(seconds: dict[str, float], repeats: list[dict[str, float]] | None = None) -> dict:
    """A measured run as `measure` / `measure_repeated` return it, reduced to what `stage_costs` reads."""
    out = {"datasets": {"orders": {"stage_seconds": seconds, "logical_bytes": {}}}}
    if repeats is not None:
        out["repeats"] = [{"stage_seconds": {"orders": r}} for r in repeats]
    return out


def test_repeated_runs_count_with_their_median_per_stage(e2e_bench):
    full = run({"transform": 30.0, "publish": 0.02})
    # The first repeat of each short run is an outlier; the median ignores it.
    minimal = run({"transform": 9.0, "publish": 0.01}, [{"transform": 9.0, "publish": 0.01},
                  {"transform": 5.0, "publish": 0.01}, {"transform": 5.2, "publish": 0.012}])  # fmt: skip
    incr = run({"transform": 12.0, "publish": 0.02}, [{"transform": 12.0, "publish": 0.02},
               {"transform": 7.0, "publish": 0.011}, {"transform": 7.4, "publish": 0.013}])  # fmt: skip

    costs = e2e_bench.stage_costs(full, minimal, incr, "orders")

    transform = costs["transform"]
    assert (transform["fixed_seconds"], transform["incremental_seconds"]) == (5.2, 7.4)
    assert transform["marginal_ratio"] == pytest.approx((7.4 - 5.2) / (30.0 - 5.2), abs=1e-4)
    assert transform["basis"] == "marginal" and transform["meets_target"] is True
    publish = costs["publish"]  # 10 ms of variable cost is under the 50 ms resolution: fixed cost only
    assert publish["basis"] == "fixed_only" and publish["marginal_ratio"] is None
    assert publish["meets_target"] is True


def test_a_stage_whose_incremental_cost_grows_with_the_total_misses_the_target(e2e_bench):
    full = run({"transform": 30.0})
    minimal = run({"transform": 5.0}, [{"transform": 5.0}] * 3)
    incr = run({"transform": 9.0}, [{"transform": 9.0}, {"transform": 8.9}, {"transform": 9.1}])

    transform = e2e_bench.stage_costs(full, minimal, incr, "orders")["transform"]

    assert transform["marginal_ratio"] == pytest.approx(0.16)
    assert transform["meets_target"] is False
