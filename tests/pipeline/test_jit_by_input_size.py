"""A local run sizes its JVM's JIT by the input: C1 only for a small input, restarted with C2 when a large one follows.

Runs in its own process: restarting PySpark's JVM would end the test session's shared Spark session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from batchlake_transforms.spark import QUICK_JIT_MAX_RECORDS

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SCRIPT = """
import json, sys
from pathlib import Path
from batchlake.environment import local_environment
from batchlake.runner import PipelineRunner

runner = PipelineRunner(local_environment(Path(sys.argv[1])), Path(sys.argv[1]))

def jvm(records):
    bean = runner.spark(records)._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    return {"pid": bean.getPid(), "c1_only": "-XX:TieredStopAtLevel=1" in list(bean.getInputArguments())}

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


def test_small_input_starts_c1_only_and_a_large_one_restarts_with_c2(tmp_path):
    small, large = QUICK_JIT_MAX_RECORDS - 1, QUICK_JIT_MAX_RECORDS
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "lake"), str(small), str(large), str(small)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    first, second, third = json.loads(out.stdout.strip().splitlines()[-1])
    assert first["c1_only"] is True
    assert second["c1_only"] is False and second["pid"] != first["pid"]
    assert third == second  # a small input after a large one keeps the running JVM
    assert not alive(first["pid"]) and not alive(second["pid"])  # each stopped JVM really exited
