"""Publishing over a published run, on S3 with the Glue catalog (moto) and locally: at every step of the publish,
and after a crash at any of them, a reader that goes through the catalog sees every partition's old files or every
partition's new ones, never a mix; the resumed publish ends with only the new versions.

The publish moves files and switches catalog locations without looking inside them, so the staged "Parquet" files
here are named bytes: a reader's view is the set of file names under the locations the catalog gives.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import boto3
import pytest
from batchlake_core import faults
from batchlake_core.catalog.glue import GlueCatalog
from batchlake_core.catalog.local import LocalCatalog
from batchlake_core.catalog.tables import ProcessedCatalog, partition_path
from batchlake_core.contract import load_contract, parse_contract
from batchlake_core.layout import ZONES, Lake
from batchlake_core.storage import LocalObjectStore, S3ObjectStore
from batchlake_transforms.publish import PublishPlan, journal_uri, publish_partitions, resume_publish
from moto import mock_aws

DAYS = [{"order_date": d} for d in ("2025-06-01", "2025-06-02", "2025-06-03")]
PUBLISH_POINTS = ("mid_swap", "after_register", "after_bookmark")


class Crash(Exception):
    """Stands for the process dying at a crash point (the fault suite SIGKILLs real runs there)."""


@pytest.fixture
def contract(repo_root):
    return load_contract(repo_root / "pipelines" / "orders.yaml")


@pytest.fixture(params=["s3", "local"])
def lake_store_tables(request, tmp_path, monkeypatch):
    if request.param == "local":
        catalog = LocalCatalog(tmp_path / "catalog.sqlite")
        catalog.ensure_database("batchlake")
        yield Lake.local(tmp_path), LocalObjectStore(), ProcessedCatalog(catalog, "batchlake")
        return
    for name, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="lake", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        glue = boto3.client("glue")
        glue.create_database(DatabaseInput={"Name": "batchlake"})
        yield Lake.s3(dict.fromkeys(ZONES, "lake")), S3ObjectStore(s3), ProcessedCatalog(GlueCatalog(glue), "batchlake")


def stage(lake, store, run_id: str, files_per_partition: int, partitions=DAYS) -> PublishPlan:
    """A staged run as Spark leaves it: part files in one `key=value` folder per partition (or none: unpartitioned)."""
    staging = lake.staging_run("orders", run_id)
    for values in partitions:
        for i in range(files_per_partition):
            name = f"part-{i:05d}-{run_id}.snappy.parquet"
            store.put_bytes("/".join(filter(None, (staging, partition_path(values), name))), run_id.encode())
    processed = lake.processed_dataset("orders")
    return PublishPlan("orders", run_id, staging, processed, partitions, [f"raw-{run_id}"], {"run_id": run_id})


def reader_view(store, tables: ProcessedCatalog) -> dict[str, set[str]]:
    """Partition -> the data files a catalog reader (Athena, the local query engine) would read now."""
    return {
        partition: {uri.rsplit("/", 1)[1] for uri in store.list(folder) if not uri.rsplit("/", 1)[1].startswith("_")}
        for partition, folder in tables.published_folders("orders").items()
    }


def files_of(run_id: str, n: int, partitions=DAYS) -> dict[str, set[str]]:
    return {partition_path(v): {f"part-{i:05d}-{run_id}.snappy.parquet" for i in range(n)} for v in partitions}


def unpartitioned(contract):
    data = contract.model_dump(by_alias=True)
    data["schema"]["partition_keys"] = []
    return parse_contract(data)


@pytest.mark.parametrize("by_day", [True, False], ids=["by day", "unpartitioned"])
def test_every_step_of_a_publish_shows_readers_the_old_or_the_new_run(lake_store_tables, contract, monkeypatch, by_day):
    lake, store, tables = lake_store_tables
    contract, partitions = (contract, DAYS) if by_day else (unpartitioned(contract), [{}])
    publish_partitions(stage(lake, store, "run1", 2, partitions), contract, lake, store, tables)
    old, new = files_of("run1", 2, partitions), files_of("run2", 3, partitions)
    assert reader_view(store, tables) == old

    seen = []
    monkeypatch.setattr(faults, "point", lambda name, *_: seen.append((name, reader_view(store, tables))))
    publish_partitions(stage(lake, store, "run2", 3, partitions), contract, lake, store, tables)

    moves = ["mid_swap"] * len(partitions)
    assert [name for name, _ in seen] == ["before_journal", "after_journal", *moves, *PUBLISH_POINTS[1:]]
    assert [view for _, view in seen] == [old] * (2 + len(moves)) + [new] * 2  # the catalog switch is what readers see
    assert reader_view(store, tables) == new
    processed = lake.processed_dataset("orders")
    assert not [uri for uri in store.list(processed) if "/run1/" in uri], "the replaced versions are deleted"
    assert not list(store.list(lake.staging_run("orders", "run2")))


def test_a_publish_of_no_partition_changes_nothing(lake_store_tables, contract):
    """Every record quarantined and no row count required: the run publishes, and the catalog stays as it was."""
    lake, store, tables = lake_store_tables
    for c, partitions in ((contract, DAYS), (unpartitioned(contract), [{}])):
        publish_partitions(stage(lake, store, "run0", 0, []), c, lake, store, tables)
        assert tables.published_folders("orders") == {}
        publish_partitions(stage(lake, store, "run1", 1, partitions), c, lake, store, tables)
        before = tables.published_folders("orders")
        publish_partitions(stage(lake, store, "run2", 0, []), c, lake, store, tables)
        assert tables.published_folders("orders") == before
        assert reader_view(store, tables) == files_of("run1", 1, partitions)
        tables.catalog.delete_table("batchlake", "orders")
        store.delete_prefix(lake.processed_dataset("orders"))


@pytest.mark.parametrize("point", [("mid_swap", 2), ("after_register", 1), ("after_bookmark", 1)])
def test_a_publish_killed_at_any_step_shows_one_run_and_resumes_to_the_new(
    lake_store_tables, contract, monkeypatch, point
):
    lake, store, tables = lake_store_tables
    publish_partitions(stage(lake, store, "run1", 2), contract, lake, store, tables)
    hits = []

    def crash_at(name, *_):
        hits.append(name)
        if hits.count(point[0]) == point[1] and name == point[0]:
            raise Crash(name)

    monkeypatch.setattr(faults, "point", crash_at)
    with pytest.raises(Crash):
        publish_partitions(stage(lake, store, "run2", 3), contract, lake, store, tables)
    assert reader_view(store, tables) == (files_of("run1", 2) if point[0] == "mid_swap" else files_of("run2", 3))
    assert store.exists(journal_uri(lake, "orders"))

    monkeypatch.setattr(faults, "point", lambda *_: None)
    assert resume_publish(contract, lake, store, tables).run_id == "run2"
    assert reader_view(store, tables) == files_of("run2", 3)
    processed = lake.processed_dataset("orders")
    assert not [uri for uri in store.list(processed) if "/run1/" in uri]
    assert not store.exists(journal_uri(lake, "orders"))


def test_a_partition_published_before_versions_existed_is_replaced_whole(lake_store_tables, contract):
    """A lake written by an earlier batchlake holds each partition's files straight in its folder, which the catalog
    names; the first publish that touches the partition leaves only its new version."""
    lake, store, tables = lake_store_tables
    processed = lake.processed_dataset("orders")
    for values in DAYS:
        store.put_bytes(f"{processed}/{partition_path(values)}/part-00000-old.snappy.parquet", b"old")
        store.put_bytes(f"{processed}/{partition_path(values)}/_lineage.json", b"{}")
    tables.register(contract, processed, [(v, f"{processed}/{partition_path(v)}") for v in DAYS])
    assert reader_view(store, tables) == {partition_path(v): {"part-00000-old.snappy.parquet"} for v in DAYS}

    publish_partitions(stage(lake, store, "run2", 1), contract, lake, store, tables)
    assert reader_view(store, tables) == files_of("run2", 1)
    names = {uri.removeprefix(processed) for uri in store.list(processed)}
    assert names == {f"/{p}/run2/{f}" for p, files in files_of("run2", 1).items() for f in files} | {
        f"/{partition_path(v)}/run2/_lineage.json" for v in DAYS
    }


def test_a_journal_of_an_earlier_batchlake_is_finished_without_losing_a_partition(lake_store_tables, contract):
    """Before version folders, a publish swapped each partition folder in place. Killed after the first swap, it left
    that partition's new files straight in its folder and the others staged; the resume publishes them all."""
    lake, store, tables = lake_store_tables
    processed = lake.processed_dataset("orders")
    plan = stage(lake, store, "run2", 2)
    first = partition_path(DAYS[0])
    for uri in list(store.list(f"{plan.staging_uri}/{first}")):  # the earlier swap of the first partition
        store.put_bytes(f"{processed}/{first}/{uri.rsplit('/', 1)[1]}", store.get_bytes(uri))
    store.delete_prefix(f"{plan.staging_uri}/{first}")
    store.put_bytes(journal_uri(lake, "orders"), json.dumps(asdict(plan)).encode())

    assert resume_publish(contract, lake, store, tables).run_id == "run2"
    assert reader_view(store, tables) == files_of("run2", 2)
    assert tables.published_folders("orders")[first] == f"{processed}/{first}"
    assert not store.exists(journal_uri(lake, "orders"))
