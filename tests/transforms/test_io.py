"""Partition folders: their names as Spark writes them, and which exist, learnt from one listing per parent folder."""

from __future__ import annotations

import pytest
from batchlake_core.catalog.tables import escape_path_name, hive_partition_path
from batchlake_transforms.io import existing_paths

pytestmark = pytest.mark.spark


def test_existing_partition_folders_keep_their_order_and_escaped_names(spark, tmp_path):
    table = tmp_path / "orders"
    for folder in ("y=2025/m=01", "y=2025/m=03", "k=10%3A00"):  # `%3A`: Hive's escape of ':' in a partition value
        (table / folder).mkdir(parents=True)
    paths = [
        f"file://{table}/y=2025/m=03",
        f"file://{table}/y=2024/m=01",  # its parent folder is missing too
        f"file://{table}/y=2025/m=02",
        f"file://{table}/y=2025/m=01",
        f"file://{table}/k=10%3A00",
        f"file://{table}/k=10%3A01",
    ]

    assert existing_paths(spark, paths) == [paths[0], paths[3], paths[4]]
    assert existing_paths(spark, [f"file://{tmp_path}/no-such-table"]) == []


def test_partition_folder_names_are_escaped_as_spark_escapes_them(spark):
    """`hive_partition_path` must name the folders Spark writes, or publish would look for folders that do not exist."""
    escape = spark.sparkContext._jvm.org.apache.spark.sql.catalyst.catalog.ExternalCatalogUtils.escapePathName
    for text in [chr(c) for c in range(256)] + ["EU:West", "a/b", "50%", "2025-06-01", "ü", "\u2028", "😀"]:
        assert escape_path_name(text) == escape(text), repr(text)
    assert hive_partition_path(["region", "day"], ["EU:West", "2025-06-01"]) == "region=EU%3AWest/day=2025-06-01"
