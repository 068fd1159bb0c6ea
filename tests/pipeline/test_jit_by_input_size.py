"""A local run sizes its JVM by the input: C1 only and a heap grown as needed for a small input; restarted with C2 and
the heap at its full size when a large one follows.

Runs in its own process: restarting PySpark's JVM would end the test session's shared Spark session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from batchlake_transforms.spark import SMALL_INPUT_MAX_RECORDS

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SCRIPT = """
import json, sys
from pathlib import Path
from batchlake.environment import local_environment
from batchlake.runner import PipelineRunner

runner = PipelineRunner(local_environment(Path(sys.argv[1])), Path(sys.argv[1]))

def jvm(records):
    spark = runner.spark(records)
    bean = spark._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    arguments = list(bean.getInputArguments())
    heap = spark._jvm.java.lang.Runtime.getRuntime()
    return {
        "pid": bean.getPid(),
        "c1_only": "-XX:TieredStopAtLevel=1" in arguments,
        "heap_from_start": "-Xms" + spark.conf.get("spark.driver.memory") in arguments,
        "heap_committed_share": heap.totalMemory() / heap.maxMemory(),
    }

seen = [jvm(int(n)) for n in sys.argv[2:]]
runner.close()
print(json.dumps(seen))
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_small_input_starts_c1_only_and_a_large_one_restarts_with_c2_and_its_full_heap(tmp_path):
    small, large = SMALL_INPUT_MAX_RECORDS - 1, SMALL_INPUT_MAX_RECORDS
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "lake"), str(small), str(large), str(small)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    first, second, third = json.loads(out.stdout.strip().splitlines()[-1])
    assert first["c1_only"] is True and first["heap_from_start"] is False
    assert second["c1_only"] is False and second["heap_from_start"] is True and second["pid"] != first["pid"]
    assert second.pop("heap_committed_share") > 0.9  # the heap really is at its full size, not only asked to be
    third.pop("heap_committed_share")  # the same JVM: only a collection in between could move its committed size
    assert third == second  # a small input after a large one keeps the running JVM
    assert not alive(first["pid"]) and not alive(second["pid"])  # each stopped JVM really exited
