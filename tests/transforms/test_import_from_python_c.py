"""The transforms package loads from a `python -c` program, whose main module is not a file.

There, PySpark takes GX's import of `pyspark.sql.connect` for its own doctest run and exits the process with status
0 ("Skipping doctests") unless `batchlake_transforms` loads GX first (see its `__init__`).
"""

from __future__ import annotations

import subprocess
import sys

PROGRAM = "from batchlake_transforms.quality import validate\nprint('quality module loaded')\n"


def test_quality_module_loads_from_python_dash_c(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "quality module loaded" in done.stdout, done.stderr
    assert "Skipping doctests" not in done.stderr
