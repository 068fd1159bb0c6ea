"""Partition folders: their names as Spark writes them."""

from __future__ import annotations

import pytest
from batchlake_core.catalog.tables import escape_path_name, hive_partition_path

pytestmark = pytest.mark.spark


def test_partition_folder_names_are_escaped_as_spark_escapes_them(spark):
    """`hive_partition_path` must name the folders Spark writes, or publish would look for folders that do not exist."""
    escape = spark.sparkContext._jvm.org.apache.spark.sql.catalyst.catalog.ExternalCatalogUtils.escapePathName
    for text in [chr(c) for c in range(256)] + ["EU:West", "a/b", "50%", "2025-06-01", "ü", "\u2028", "😀"]:
        assert escape_path_name(text) == escape(text), repr(text)
    assert hive_partition_path(["region", "day"], ["EU:West", "2025-06-01"]) == "region=EU%3AWest/day=2025-06-01"
