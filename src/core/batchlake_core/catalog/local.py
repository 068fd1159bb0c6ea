"""The local catalog: Glue-shaped databases, tables and partitions in one SQLite file.

Each row stores the exact Glue payload as JSON, validated against Glue's API model (botocore) before it
is written, so what works here is what Glue accepts. Names are lower-cased as Glue does.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from batchlake_core.catalog.base import (
    Catalog,
    CatalogError,
    as_partition_input,
    as_table_input,
    normalize_partition,
    normalize_table,
    validate_input,
)
from batchlake_core.layout import rebased

_SCHEMA = """
CREATE TABLE IF NOT EXISTS databases (name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tables (
    database TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (database, name));
CREATE TABLE IF NOT EXISTS partitions (
    database TEXT NOT NULL, table_name TEXT NOT NULL, partition_values TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (database, table_name, partition_values));
CREATE TABLE IF NOT EXISTS lake (id INTEGER PRIMARY KEY CHECK (id = 1), root TEXT NOT NULL);
"""


class LocalCatalog(Catalog):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"LocalCatalog({str(self.path)!r})"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            with con:  # one transaction per call
                yield con
        finally:
            con.close()

    # the lake folder the locations are in
    def recorded_root(self) -> str | None:
        """The lake root recorded by `relocate` (None before the first call)."""
        with self._connect() as con:
            row = con.execute("SELECT root FROM lake").fetchone()
        return row[0] if row else None

    def relocate(self, root: str, before_move: Callable[[str], None] = lambda old_root: None) -> None:
        """Record that this catalog's locations are under the lake root `root`. When they were under another root (the
        lake folder was moved or copied), `before_move(old_root)` runs, then every table and partition location under
        the old root moves under `root`: all while holding the catalog's write lock, so that a second process opening
        the lake waits and then finds it moved. The first call on a catalog written before roots were recorded takes
        the old root from its tables' locations."""
        root = root.rstrip("/")
        with self._connect() as con:
            if con.execute("SELECT 1 FROM lake WHERE root = ?", (root,)).fetchone():
                return  # every start of a lake that did not move: a read, no write lock
            con.execute("BEGIN IMMEDIATE")
            row = con.execute("SELECT root FROM lake").fetchone()  # again: another process may have moved it meanwhile
            old_root = row[0] if row else _root_of_locations(con)
            if old_root not in (None, root):
                before_move(old_root)
                for table in ("tables", "partitions"):
                    for rowid, body in con.execute(f"SELECT rowid, body FROM {table}").fetchall():
                        moved = json.dumps(rebased(json.loads(body), old_root, root))
                        con.execute(f"UPDATE {table} SET body = ? WHERE rowid = ?", (moved, rowid))
            con.execute("INSERT OR REPLACE INTO lake (id, root) VALUES (1, ?)", (root,))

    # databases
    def ensure_database(self, name: str, description: str = "") -> None:
        database_input = {"Name": name.lower()}
        if description:
            database_input["Description"] = description
        validate_input("DatabaseInput", database_input)
        with self._connect() as con:
            con.execute(
                "INSERT OR IGNORE INTO databases (name, body) VALUES (?, ?)",
                (name.lower(), json.dumps(database_input)),
            )

    def list_databases(self) -> list[str]:
        with self._connect() as con:
            return [r[0] for r in con.execute("SELECT name FROM databases ORDER BY name")]

    def _require_database(self, con: sqlite3.Connection, database: str) -> None:
        if con.execute("SELECT 1 FROM databases WHERE name = ?", (database,)).fetchone() is None:
            raise CatalogError(f"database {database} does not exist (create it with ensure_database)")

    # tables
    def get_table(self, database: str, name: str) -> dict[str, Any] | None:
        with self._connect() as con:
            row = con.execute(
                "SELECT body FROM tables WHERE database = ? AND name = ?", (database.lower(), name.lower())
            ).fetchone()
        return normalize_table(json.loads(row[0]), database.lower()) if row else None

    def list_tables(self, database: str) -> list[dict[str, Any]]:
        with self._connect() as con:
            rows = con.execute("SELECT body FROM tables WHERE database = ? ORDER BY name", (database.lower(),))
            return [normalize_table(json.loads(r[0]), database.lower()) for r in rows]

    def upsert_table(self, database: str, table_input: dict[str, Any]) -> None:
        table_input = as_table_input(table_input)
        validate_input("TableInput", table_input)
        database = database.lower()
        body = copy.deepcopy(table_input)
        body["Name"] = body["Name"].lower()
        with self._connect() as con:
            self._require_database(con, database)
            con.execute(
                "INSERT INTO tables (database, name, body) VALUES (?, ?, ?) "
                "ON CONFLICT (database, name) DO UPDATE SET body = excluded.body",
                (database, body["Name"], json.dumps(body)),
            )

    def delete_table(self, database: str, name: str) -> None:
        with self._connect() as con:
            con.execute("DELETE FROM tables WHERE database = ? AND name = ?", (database.lower(), name.lower()))
            con.execute(
                "DELETE FROM partitions WHERE database = ? AND table_name = ?", (database.lower(), name.lower())
            )

    # partitions
    def get_partitions(self, database: str, table: str) -> list[dict[str, Any]]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT body FROM partitions WHERE database = ? AND table_name = ?", (database.lower(), table.lower())
            ).fetchall()
        parts = [normalize_partition(json.loads(r[0]), database.lower(), table.lower()) for r in rows]
        return sorted(parts, key=lambda p: p["Values"])

    def add_partitions(self, database: str, table: str, partition_inputs: list[dict[str, Any]]) -> None:
        database, table = database.lower(), table.lower()
        partition_inputs = [as_partition_input(p) for p in partition_inputs]
        for p in partition_inputs:
            validate_input("PartitionInput", p)
        with self._connect() as con:
            row = con.execute("SELECT body FROM tables WHERE database = ? AND name = ?", (database, table)).fetchone()
            if row is None:
                raise CatalogError(f"table {database}.{table} does not exist: create it before adding partitions")
            n_keys = len(json.loads(row[0]).get("PartitionKeys", []))
            for p in partition_inputs:
                if len(p["Values"]) != n_keys:
                    raise CatalogError(
                        f"partition {p['Values']} of {database}.{table} has {len(p['Values'])} values, "
                        f"the table has {n_keys} partition keys"
                    )
                con.execute(
                    "INSERT INTO partitions (database, table_name, partition_values, body) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (database, table_name, partition_values) DO UPDATE SET body = excluded.body",
                    (database, table, json.dumps(p["Values"]), json.dumps(p)),
                )

    def delete_partitions(self, database: str, table: str, values_list: list[list[str]]) -> None:
        with self._connect() as con:
            con.executemany(
                "DELETE FROM partitions WHERE database = ? AND table_name = ? AND partition_values = ?",
                [(database.lower(), table.lower(), json.dumps(list(v))) for v in values_list],
            )


def _root_of_locations(con: sqlite3.Connection) -> str | None:
    """The lake root of a processed or raw table's location (`<root>/processed/<dataset>/…`), None if no table."""
    for (body,) in con.execute("SELECT body FROM tables ORDER BY name"):
        location = json.loads(body).get("StorageDescriptor", {}).get("Location", "")
        for zone in ("/processed/", "/raw/"):
            if zone in location:
                return location[: location.rfind(zone)].removeprefix("file://")
    return None
