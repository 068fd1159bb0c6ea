"""A local lake keeps working after its folder is moved or copied: catalog locations and pending state follow it."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from batchlake.environment import LOCAL_DATABASE, local_environment
from batchlake.errors import UserError
from batchlake_core.catalog import LocalCatalog
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


def test_a_lake_from_before_roots_were_recorded_is_followed_too(tmp_path, repo_root):
    """A catalog that recorded no root (written by an older batchlake) takes it from its tables' locations."""
    contract = load_contract(repo_root / "pipelines" / "orders.yaml")
    old, new = tmp_path / "lake", tmp_path / "copy"
    env = local_environment(old)
    env.catalog.upsert_table(LOCAL_DATABASE, processed_table_input(contract, f"file://{old}/processed/orders"))
    with sqlite3.connect(old / "catalog" / "glue_catalog.sqlite") as con:
        con.execute("DELETE FROM lake")
    shutil.copytree(old, new)
    table = local_environment(new).catalog.get_table(LOCAL_DATABASE, "orders")
    assert table["StorageDescriptor"]["Location"] == f"file://{new}/processed/orders/"
    assert local_environment(old).catalog.get_table(LOCAL_DATABASE, "orders")["StorageDescriptor"]["Location"] == (
        f"file://{old}/processed/orders/"
    )


def test_an_unreadable_state_file_stops_the_move_with_one_line(tmp_path, repo_root):
    contract = load_contract(repo_root / "pipelines" / "orders.yaml")
    old, new = tmp_path / "lake", tmp_path / "moved"
    env = local_environment(old)
    env.catalog.upsert_table(LOCAL_DATABASE, processed_table_input(contract, f"{old}/processed/orders"))
    (old / "state" / "orders").mkdir(parents=True)
    (old / "state" / "orders" / "publish_journal.json").write_text('{"processed_uri": "')  # cut short
    shutil.move(old, new)
    with pytest.raises(UserError, match=r"publish_journal.json is not JSON"):
        local_environment(new)
    # Nothing moved: the catalog still names the old root, and the next start, with the file restored, moves it.
    assert LocalCatalog(new / "catalog" / "glue_catalog.sqlite").recorded_root() == str(old)
    (new / "state" / "orders" / "publish_journal.json").write_text(json.dumps({"processed_uri": f"{old}/processed"}))
    moved = local_environment(new)
    assert (
        moved.catalog.get_table(LOCAL_DATABASE, "orders")["StorageDescriptor"]["Location"] == f"{new}/processed/orders/"
    )
    assert json.loads((new / "state" / "orders" / "publish_journal.json").read_text()) == {
        "processed_uri": f"{new}/processed"
    }
