"""A Spark job failing on a full disk becomes one line for the user; other failures pass through unchanged."""

from __future__ import annotations

import pytest
from batchlake_core.errors import UserError
from batchlake_transforms.pipeline import DiskFullError, disk_full_as_user_error


class FakeSpark:
    class conf:  # mimics SparkSession.conf
        @staticmethod
        def get(key, default=None):
            return "/lake/.spark/tmp" if key == "spark.local.dir" else default


def test_no_space_left_becomes_one_line_naming_where():
    java_chain = "py4j.protocol.Py4JJavaError: ...\nCaused by: java.io.IOException: No space left on device\n\tat ..."
    with pytest.raises(DiskFullError) as raised, disk_full_as_user_error(FakeSpark(), "the staged output /lake/x"):
        raise RuntimeError(java_chain)
    message = str(raised.value)
    assert isinstance(raised.value, UserError) and "\n" not in message
    assert "/lake/x" in message and "/lake/.spark/tmp" in message and "free space and rerun" in message


def test_other_failures_pass_through():
    where = "the staged output /lake/x"
    with (
        pytest.raises(RuntimeError, match="Task failed: NullPointerException"),
        disk_full_as_user_error(FakeSpark(), where),
    ):
        raise RuntimeError("Task failed: NullPointerException")
