"""Reading what is published: which partition folders exist, learnt from one listing per parent folder."""

from __future__ import annotations

import pytest
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
