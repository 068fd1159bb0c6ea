"""A local lake keeps working after its folder is moved or copied: catalog locations and pending state follow it."""

from __future__ import annotations

import json
import shutil

from batchlake.environment import LOCAL_DATABASE, local_environment
from batchlake_core.catalog.tables import processed_partition_input, processed_table_input, version_folder
from batchlake_core.contract import load_contract


def test_a_moved_lake_points_its_catalog_and_pending_state_at_the_new_folder(tmp_path, repo_root):
    contract = load_contract(repo_root / "pipelines" / "orders.yaml")
    old, new = tmp_path / "lake", tmp_path / "moved" / "lake"
    env = local_environment(old)
    root = f"{old}/processed/orders"
    folder = version_folder(root, {"order_date": "2025-06-01"}, "run-1")
    env.catalog.upsert_table(LOCAL_DATABASE, processed_table_input(contract, root))
    partition = processed_partition_input(contract, root, {"order_date": "2025-06-01"}, folder)
    env.catalog.add_partitions(LOCAL_DATABASE, "orders", [partition])
    state = old / "state" / "orders"
    (state / "runs").mkdir(parents=True)
    journal = {"staging_uri": f"{old}/staging/orders/run-2", "processed_uri": root, "partitions": [{"a": "1"}]}
    (state / "publish_journal.json").write_text(json.dumps(journal))
    (state / "ingest_cursor.json").write_text(json.dumps({"cursor": {"value": "2025-06-01"}}))
    history = json.dumps({"report": f"{old}/reports/orders/run-1/report.html"})
    (state / "runs" / "run-1.json").write_text(history)
    # A neighbour whose name starts like the lake's is not the lake.
    (state / "neighbour.json").write_text(json.dumps({"path": f"{old}-backup/processed"}))

    new.parent.mkdir()
    shutil.move(old, new)
    moved = local_environment(new)

    table = moved.catalog.get_table(LOCAL_DATABASE, "orders")
    assert table["StorageDescriptor"]["Location"] == f"{new}/processed/orders/"
    [partition] = moved.catalog.get_partitions(LOCAL_DATABASE, "orders")
    assert partition["StorageDescriptor"]["Location"] == f"{new}/processed/orders/order_date=2025-06-01/run-1/"
    state = new / "state" / "orders"
    assert json.loads((state / "publish_journal.json").read_text()) == {
        "staging_uri": f"{new}/staging/orders/run-2",
        "processed_uri": f"{new}/processed/orders",
        "partitions": [{"a": "1"}],
    }
    assert json.loads((state / "ingest_cursor.json").read_text()) == {"cursor": {"value": "2025-06-01"}}
    assert (state / "runs" / "run-1.json").read_text() == history  # the run history keeps what it recorded
    assert json.loads((state / "neighbour.json").read_text()) == {"path": f"{old}-backup/processed"}
    assert moved.catalog.recorded_root() == str(new)

    # A copy taken back to the first place follows too, and opening it again changes nothing more.
    shutil.copytree(new, old)
    back = local_environment(old)
    assert back.catalog.get_table(LOCAL_DATABASE, "orders")["StorageDescriptor"]["Location"] == f"{root}/"
    assert local_environment(new).catalog.get_table(LOCAL_DATABASE, "orders") == table
