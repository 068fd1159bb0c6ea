"""The local query engine: Athena SQL on DuckDB, over the tables of a (local) Glue-shaped catalog.

Every catalog table becomes a DuckDB view in a schema named like the database (`batchlake.orders` and
plain `orders` both work): Parquet tables read their partitions' files with `read_parquet`, JSON tables
(raw, crawler-built) with `read_json`; partition columns come from the catalog with their types, data
columns are cast to the catalog's types. Only registered partitions are visible, as on Athena.
DDL that Athena runs against the Glue catalog (CTAS, CREATE EXTERNAL TABLE, CREATE VIEW, MSCK REPAIR
TABLE, ALTER TABLE ADD PARTITION, DROP TABLE/VIEW) is executed against the catalog here too.
Bytes scanned come from DuckDB's profiler (`io.total_bytes_read`): the bytes actually read from files.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import shutil
import tempfile
import time
import uuid
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from batchlake_core.catalog import Catalog
from batchlake_core.catalog.tables import PARQUET_FORMAT, folder, partition_input, storage_descriptor
from batchlake_core.layout import Lake
from batchlake_core.storage import store_for
from sqlglot import exp

from batchlake.query.engine import QueryEngine
from batchlake.query.functions import create_statements
from batchlake.query.result import QueryResult, store_result
from batchlake.query.transpile import QueryError, parse_statements, to_duckdb
from batchlake.query.types import duckdb_to_hive, duckdb_to_presto, hive_to_duckdb

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its fallback notices are not for our users

SESSION_SETTINGS = (
    "SET TimeZone = 'UTC'",  # Athena sessions are UTC
    "SET integer_division = true",  # Athena: 5 / 2 = 2 for integers
)
_PARTITION_SPEC = re.compile(r"PARTITION\s*\(([^)]*)\)(?:\s*LOCATION\s*'((?:[^']|'')*)')?", re.IGNORECASE)
_KEY_VALUE = re.compile(r"(\w+)\s*=\s*('(?:[^']|'')*'|[^,\s]+)")
_MISSING_TABLE = re.compile(r"Table with name (\S+) does not exist", re.IGNORECASE)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _data_files(location: str, recursive: bool) -> list[str]:
    """Readable files under a local folder (Hive skips names starting with `_` or `.`)."""
    root = Path(location)
    if not root.is_dir():
        return []
    paths = root.rglob("*") if recursive else root.iterdir()
    files = []
    for p in paths:
        rel_parts = p.relative_to(root).parts
        if p.is_file() and not any(part.startswith(("_", ".")) for part in rel_parts):
            files.append(str(p))
    return sorted(files)


def _unquote(value: str) -> str:
    return value[1:-1].replace("''", "'") if value.startswith("'") else value


def duckdb_error_line(e: Exception) -> str:
    """DuckDB's error as one line: its first line, and the columns it suggests for a misspelt one."""
    lines = str(e).splitlines()
    candidates = [line.split(":", 1)[1].strip(" :") for line in lines if line.startswith("Candidate bindings")]
    return lines[0] + (f" (columns DuckDB suggests: {candidates[0]})" if candidates and candidates[0] else "")


class DuckDBQueryEngine(QueryEngine):
    engine_name = "duckdb"

    def __init__(self, lake: Lake, catalog: Catalog, database: str = "batchlake") -> None:
        if not lake.is_local:
            raise QueryError("the DuckDB engine reads a local lake; use --env <workspace> to query Athena")
        self.lake = lake
        self.catalog = catalog
        self.database = database
        self.store = store_for(lake.athena_results())
        self._tmp = tempfile.mkdtemp(prefix="batchlake-duckdb-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmp, True)  # also if close() is never called
        self._profile = f"{self._tmp}/profile.json"
        self.con = duckdb.connect()
        for setting in SESSION_SETTINGS:
            self.con.execute(setting)
        for macro in create_statements("main"):
            self.con.execute(macro)
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(database)}")
        self.con.execute(f"SET search_path = {_lit(database + ',main')}")
        self.con.execute("SET enable_profiling = 'json'")
        self.con.execute(f"SET profiling_output = {_lit(self._profile)}")
        self.con.execute("SET profiling_mode = 'detailed'")
        self.skipped: dict[str, str] = {}

    def close(self) -> None:
        self.con.close()
        self._cleanup()

    def __enter__(self) -> DuckDBQueryEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- catalog tables as DuckDB views ---------------------------------------------------------

    def refresh(self) -> None:
        """(Re)create one view per catalog table; views over views are created after their inputs."""
        self.catalog.ensure_database(self.database)
        tables = self.catalog.list_tables(self.database)
        self.skipped = {}
        existing = {
            r[0]
            for r in self.con.execute(
                "SELECT view_name FROM duckdb_views() WHERE schema_name = ? AND NOT internal", [self.database]
            ).fetchall()
        }
        wanted = {t["Name"] for t in tables}
        for stale in existing - wanted:
            self.con.execute(f"DROP VIEW IF EXISTS {_q(self.database)}.{_q(stale)}")
        pending = []
        for table in tables:
            if table.get("TableType") == "VIRTUAL_VIEW":
                pending.append(table)
                continue
            try:
                select = self._table_select(table)
            except QueryError as e:
                self.skipped[table["Name"]] = str(e)
                continue
            self.con.execute(f"CREATE OR REPLACE VIEW {_q(self.database)}.{_q(table['Name'])} AS {select}")
        for _ in range(len(pending) + 1):  # views may read other views: retry until nothing changes
            failed = []
            for view in pending:
                try:
                    sql = self._transpile(parse_statements(presto_view_sql(view), view["Name"])[0])
                    self.con.execute(f"CREATE OR REPLACE VIEW {_q(self.database)}.{_q(view['Name'])} AS {sql}")
                except (duckdb.Error, QueryError) as e:
                    failed.append(view)
                    self.skipped[view["Name"]] = str(e).splitlines()[0]
            if len(failed) == len(pending):
                break
            pending = failed
        for view in pending:
            self.skipped.setdefault(view["Name"], "view could not be created")

    def _table_select(self, table: dict[str, Any]) -> str:
        sd = table["StorageDescriptor"]
        serde = sd.get("SerdeInfo", {}).get("SerializationLibrary", "")
        classification = table.get("Parameters", {}).get("classification", "")
        if "parquet" in serde.lower() or classification == "parquet":
            kind = "parquet"
        elif "json" in serde.lower() or classification == "json":
            kind = "json"
        else:
            raise QueryError(f"table {table['Name']}: only Parquet and JSON tables are readable locally ({serde})")
        columns = sd["Columns"]
        keys = table.get("PartitionKeys", [])
        key_names = [k["Name"] for k in keys]
        casts = [f"CAST({_q(c['Name'])} AS {hive_to_duckdb(c['Type'])}) AS {_q(c['Name'])}" for c in columns]
        key_types = {k["Name"]: hive_to_duckdb(k["Type"]) for k in keys}

        if not keys:
            files = _data_files(sd["Location"], recursive=True)
            sources = [(files, {})] if files else []
        else:
            sources = []
            for p in self.catalog.get_partitions(self.database, table["Name"]):
                files = _data_files(p["StorageDescriptor"]["Location"], recursive=True)
                if files:
                    sources.append((files, dict(zip(key_names, p["Values"], strict=True))))
        if not sources:
            nulls = [f"CAST(NULL AS {hive_to_duckdb(c['Type'])}) AS {_q(c['Name'])}" for c in columns]
            nulls += [f"CAST(NULL AS {key_types[k]}) AS {_q(k)}" for k in key_names]
            return f"SELECT {', '.join(nulls)} WHERE false"

        def reader(files: list[str], hive: bool) -> str:
            file_list = "[" + ", ".join(_lit(f) for f in files) + "]"
            hive_args = ""
            if hive and keys:
                types = ", ".join(f"{_lit(k)}: {_lit(t)}" for k, t in key_types.items())
                hive_args = f", hive_partitioning = true, hive_types = {{{types}}}, hive_types_autocast = false"
            else:
                hive_args = ", hive_partitioning = false"
            if kind == "parquet":
                return f"read_parquet({file_list}{hive_args})"
            # ISO timestamps may carry an offset: read them as TIMESTAMPTZ, the cast above makes them UTC
            json_types = {c["Name"]: hive_to_duckdb(c["Type"]) for c in columns}
            json_types = {n: "TIMESTAMPTZ" if t == "TIMESTAMP" else t for n, t in json_types.items()}
            json_columns = ", ".join(f"{_lit(n)}: {_lit(t)}" for n, t in json_types.items())
            return f"read_json({file_list}, format = 'newline_delimited', columns = {{{json_columns}}}{hive_args})"

        # fast path: every partition folder is named <key>=<value>/..., so DuckDB prunes files by itself
        def hive_named(files: list[str], values: dict[str, str]) -> bool:
            suffix = "/".join(f"{k}={v}" for k, v in values.items())
            return all(f"/{suffix}/" in f for f in files)

        if all(hive_named(f, v) for f, v in sources):
            all_files = [f for files, _ in sources for f in files]
            return f"SELECT {', '.join(casts + [_q(k) for k in key_names])} FROM {reader(all_files, True)}"
        branches = []
        for files, values in sources:
            literals = [f"CAST({_lit(values[k])} AS {key_types[k]}) AS {_q(k)}" for k in key_names]
            branches.append(f"SELECT {', '.join(casts + literals)} FROM {reader(files, False)}")
        return " UNION ALL ".join(branches)

    # --- running statements ------------------------------------------------------------------------

    def execute(self, sql: str, origin: str = "query") -> QueryResult:
        """Run every statement in `sql`; the result of the last one is returned and stored like Athena's."""
        statements = parse_statements(sql, origin)
        result = None
        for statement in statements:
            result = self._execute_one(statement, statement.sql(dialect="athena"), origin)
        assert result is not None
        if len(statements) == 1:
            result.sql = sql.strip().rstrip(";")
        return result

    def _execute_one(self, statement: exp.Expression, sql: str, origin: str) -> QueryResult:
        submitted = datetime.now(UTC)
        started = time.perf_counter()
        self.refresh()
        result = QueryResult(query_id=str(uuid.uuid4()), columns=[], rows=[], sql=sql, engine=self.engine_name)
        try:
            handler = self._ddl_handler(statement)
            if handler is not None:
                result.statement_type = "DDL"
                handler(statement, result)
            else:
                self._run_query(statement, result, origin)
        except QueryError as e:  # like Athena: the execution is recorded as FAILED, with its reason
            result.state, result.state_change_reason = "FAILED", str(e)
            result.elapsed_seconds = time.perf_counter() - started
            store_result(self.store, self.lake.athena_results(), result, submitted, datetime.now(UTC))
            raise
        result.elapsed_seconds = time.perf_counter() - started
        store_result(self.store, self.lake.athena_results(), result, submitted, datetime.now(UTC))
        return result

    def _ddl_handler(self, statement: exp.Expression):
        if isinstance(statement, exp.Create):
            kind = (statement.kind or "").upper()
            if kind == "VIEW":
                return self._create_view
            if kind == "TABLE" and statement.expression is not None:
                return self._create_table_as
            if kind == "TABLE":
                return self._create_external_table
        if isinstance(statement, exp.Drop) and (statement.kind or "").upper() in ("TABLE", "VIEW"):
            return self._drop
        if isinstance(statement, exp.Command):
            text = _command_text(statement)
            if re.match(r"MSCK\s+REPAIR\s+TABLE", text, re.IGNORECASE):
                return self._msck_repair
            if re.match(r"ALTER\s+TABLE\s+\S+\s+ADD\b", text, re.IGNORECASE):
                return self._alter_add_partitions
            if re.match(r"SHOW\s+(TABLES|PARTITIONS|COLUMNS)\b", text, re.IGNORECASE):
                return self._show
        if isinstance(statement, exp.Describe) and isinstance(statement.this, exp.Table):
            return self._describe_table
        if isinstance(statement, exp.Alter):
            return self._alter_add_partitions
        if isinstance(statement, exp.Insert | exp.Update | exp.Delete | exp.Merge):
            raise QueryError(f"{type(statement).__name__.upper()} is not supported locally: write data with CTAS")
        return None

    def _duckdb(self, sql: str) -> duckdb.DuckDBPyConnection:
        try:
            return self.con.execute(sql)
        except duckdb.CatalogException as e:
            raise self._catalog_error(e) from None
        except duckdb.Error as e:
            raise QueryError(f"query failed: {duckdb_error_line(e)}") from None

    def _catalog_error(self, e: Exception) -> QueryError:
        message = duckdb_error_line(e)
        m = _MISSING_TABLE.search(message)
        if m:
            names = [t["Name"] for t in self.catalog.list_tables(self.database)]
            known = ", ".join(names) or "none"
            name = m.group(1).strip('"!')
            hint = f" ({self.skipped[name]})" if name in self.skipped else ""
            return QueryError(f"table {name} does not exist in database {self.database}{hint}; tables: {known}")
        return QueryError(f"query failed: {message}")

    def _bytes_scanned(self) -> int:
        try:
            profile = json.loads(Path(self._profile).read_text())
        except (OSError, ValueError):
            return 0
        return int(profile.get("io", {}).get("total_bytes_read", 0))

    def _date_columns(self, statement: exp.Expression) -> frozenset[str]:
        """DATE columns (and partition keys) of the catalog tables a statement reads."""
        names = {t.name.lower() for t in statement.find_all(exp.Table)}
        dates = set()
        for table in self.catalog.list_tables(self.database):
            if table["Name"] in names:
                cols = table["StorageDescriptor"]["Columns"] + table.get("PartitionKeys", [])
                dates |= {c["Name"] for c in cols if c["Type"].lower() == "date"}
        return frozenset(dates)

    def _transpile(self, statement: exp.Expression) -> str:
        return to_duckdb(statement, self._date_columns(statement))

    def _run_query(self, statement: exp.Expression, result: QueryResult, origin: str) -> None:
        result.engine_sql = self._transpile(statement)
        Path(self._profile).unlink(missing_ok=True)
        cursor = self._duckdb(result.engine_sql)
        try:
            result.rows = [tuple(r) for r in cursor.fetchall()]
        except duckdb.Error as e:
            raise QueryError(f"query failed: {duckdb_error_line(e)}") from None
        description = cursor.description or []
        result.columns = [d[0] for d in description]
        result.column_types = [str(d[1]) for d in description]
        result.bytes_scanned = self._bytes_scanned()

    # --- DDL against the catalog -------------------------------------------------------------------

    def _name(self, table: exp.Table | exp.Expression) -> tuple[str, str]:
        if isinstance(table, exp.Schema):
            table = table.this
        db = table.args.get("db")
        return (db.name.lower() if db else self.database), table.name.lower()

    def _local_location(self, location: str) -> str:
        if location.startswith("s3://"):
            raise QueryError(f"location {location} is on S3: locally give a folder path (or query Athena with --env)")
        return str(Path(location.removeprefix("file://")).resolve())

    def _describe(self, duckdb_sql: str) -> list[tuple[str, str]]:
        rows = self._duckdb(f"DESCRIBE {duckdb_sql}").fetchall()
        return [(r[0], r[1]) for r in rows]

    def _create_view(self, statement: exp.Create, result: QueryResult) -> None:
        db, name = self._name(statement.this)
        query = statement.expression
        result.engine_sql = self._transpile(query)
        columns = self._describe(result.engine_sql)
        exists = self.catalog.get_table(db, name)
        if exists and not statement.args.get("replace"):
            raise QueryError(f"view {db}.{name} already exists: use CREATE OR REPLACE VIEW")
        self.catalog.upsert_table(db, presto_view_input(name, db, query.sql(dialect="athena"), columns))

    def _create_table_as(self, statement: exp.Create, result: QueryResult) -> None:
        db, name = self._name(statement.this)
        if self.catalog.get_table(db, name) is not None:
            if statement.args.get("exists"):
                return
            raise QueryError(f"table {db}.{name} already exists: DROP TABLE it first or choose another name")
        props = _properties(statement)
        fmt = str(props.get("format", "PARQUET")).upper()
        if fmt != "PARQUET":
            raise QueryError(f"CTAS format {fmt!r} is not supported locally: use format = 'PARQUET'")
        location = self._local_location(
            props.get("external_location") or f"{self.lake.athena_results()}/tables/{result.query_id}"
        )
        if _data_files(location, recursive=True):
            raise QueryError(f"external_location {location} is not empty: Athena writes CTAS only to an empty location")
        partitioned_by = [p.lower() for p in props.get("partitioned_by", [])]
        result.engine_sql = self._transpile(statement.expression)
        columns = self._describe(result.engine_sql)
        names = [c for c, _ in columns]
        unknown = [p for p in partitioned_by if p not in names]
        if unknown:
            raise QueryError(f"partitioned_by names {unknown}, which the SELECT does not produce (columns: {names})")
        Path(location).mkdir(parents=True, exist_ok=True)
        compression = str(props.get("write_compression") or props.get("parquet_compression") or "SNAPPY").upper()
        if compression not in ("SNAPPY", "GZIP", "ZSTD", "LZ4", "NONE", "UNCOMPRESSED"):
            raise QueryError(
                f"write_compression {compression!r} is not supported for Parquet (SNAPPY, GZIP, ZSTD, LZ4)"
            )
        compression = "UNCOMPRESSED" if compression == "NONE" else compression
        if partitioned_by:
            target, options = location, f"FORMAT parquet, PARTITION_BY ({', '.join(_q(p) for p in partitioned_by)})"
            options += ", FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE true"
        else:
            target, options = f"{location}/part-00000.parquet", "FORMAT parquet"
        options += f", COMPRESSION {compression}"
        Path(self._profile).unlink(missing_ok=True)
        self._duckdb(f"COPY ({result.engine_sql}) TO {_lit(target)} ({options})")
        result.bytes_scanned = self._bytes_scanned()
        data_columns = [{"Name": c, "Type": duckdb_to_hive(t)} for c, t in columns if c not in partitioned_by]
        types = dict(columns)
        table = {
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {
                "classification": "parquet",
                "EXTERNAL": "TRUE",
                "has_encrypted_data": "false",
                "parquet.compression": compression,
            },
            "StorageDescriptor": storage_descriptor(data_columns, location, PARQUET_FORMAT),
            "PartitionKeys": [{"Name": p, "Type": duckdb_to_hive(types[p])} for p in partitioned_by],
        }
        self.catalog.upsert_table(db, table)
        if partitioned_by:
            self._discover_partitions(db, table)

    def _create_external_table(self, statement: exp.Create, result: QueryResult) -> None:
        db, name = self._name(statement.this)
        if self.catalog.get_table(db, name) is not None:
            if statement.args.get("exists"):
                return
            raise QueryError(f"table {db}.{name} already exists: DROP TABLE it first or use IF NOT EXISTS")
        schema = statement.this
        columns = [{"Name": c.name.lower(), "Type": _hive_type(c.args["kind"])} for c in schema.expressions]
        props = statement.args.get("properties")
        keys, location, fmt, params = [], None, None, {}
        for p in props.expressions if props else []:
            if isinstance(p, exp.PartitionedByProperty):
                keys = [{"Name": c.name.lower(), "Type": _hive_type(c.args["kind"])} for c in p.this.expressions]
            elif isinstance(p, exp.LocationProperty):
                location = p.this.name
            elif isinstance(p, exp.FileFormatProperty):
                fmt = p.this.name.upper()
            elif isinstance(p, exp.RowFormatSerdeProperty):
                fmt = "JSON" if "json" in p.this.name.lower() else p.this.name
            elif isinstance(p, exp.Property) and isinstance(p.this, exp.Literal):
                params[p.this.name] = p.args["value"].name
        if location is None:
            raise QueryError(f"CREATE EXTERNAL TABLE {name} needs a LOCATION")
        if fmt == "PARQUET":
            from batchlake_core.catalog.tables import PARQUET_FORMAT as chosen

            params.setdefault("classification", "parquet")
        elif fmt in ("JSON", "TEXTFILE") or (fmt or "").endswith("JsonSerDe"):
            from batchlake_core.catalog.tables import JSON_FORMAT as chosen

            params.setdefault("classification", "json")
        else:
            raise QueryError(f"CREATE EXTERNAL TABLE {name}: format {fmt} is not readable locally (PARQUET or JSON)")
        params.setdefault("EXTERNAL", "TRUE")
        table = {
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": params,
            "StorageDescriptor": storage_descriptor(columns, self._local_location(location), chosen),
            "PartitionKeys": keys,
        }
        self.catalog.upsert_table(db, table)

    def _drop(self, statement: exp.Drop, result: QueryResult) -> None:
        target = statement.this or next(iter(statement.args.get("tables") or statement.expressions), None)
        if not isinstance(target, exp.Table):
            raise QueryError("DROP TABLE/VIEW needs a table name")
        db, name = self._name(target)
        if self.catalog.get_table(db, name) is None:
            if statement.args.get("exists"):
                return
            known = ", ".join(t["Name"] for t in self.catalog.list_tables(db)) or "none"
            raise QueryError(f"table {db}.{name} does not exist; tables: {known}")
        self.catalog.delete_table(db, name)  # like Athena: external data stays where it is

    def _msck_repair(self, statement: exp.Command, result: QueryResult) -> None:
        m = re.search(r"TABLE\s+(\S+)", _command_text(statement), re.IGNORECASE)
        ident = exp.to_table(m.group(1).strip('`";'), dialect="athena")
        db, name = self._name(ident)
        table = self._require(db, name)
        added = self._discover_partitions(db, table)
        result.columns, result.rows = ["partitions_added"], [(len(added),)]

    def _require(self, db: str, name: str) -> dict[str, Any]:
        table = self.catalog.get_table(db, name)
        if table is None:
            known = ", ".join(t["Name"] for t in self.catalog.list_tables(db)) or "none"
            raise QueryError(f"table {db}.{name} does not exist; tables: {known}")
        return table

    def _discover_partitions(self, db: str, table: dict[str, Any]) -> list[list[str]]:
        """Register every `<k1>=<v1>/<k2>=<v2>/` folder under the table's location that holds files."""
        keys = [k["Name"] for k in table.get("PartitionKeys", [])]
        if not keys:
            raise QueryError(f"table {db}.{table['Name']} is not partitioned: nothing to repair")
        root = table["StorageDescriptor"]["Location"].rstrip("/")
        known = {tuple(p["Values"]) for p in self.catalog.get_partitions(db, table["Name"])}
        found = {}
        for f in _data_files(root, recursive=True):
            parts = Path(f).relative_to(root).parts[: len(keys)]
            pairs = [p.partition("=") for p in parts]
            if len(pairs) == len(keys) and all(k == key for (k, _, _), key in zip(pairs, keys, strict=True)):
                values = [v for _, _, v in pairs]
                found[tuple(values)] = f"{root}/" + "/".join(parts)
        new = [partition_input(table, list(v), loc) for v, loc in sorted(found.items()) if v not in known]
        if new:
            self.catalog.add_partitions(db, table["Name"], new)
        return [p["Values"] for p in new]

    def _show(self, statement: exp.Command, result: QueryResult) -> None:
        """SHOW TABLES [IN db] | SHOW PARTITIONS t | SHOW COLUMNS IN t, answered from the catalog as Athena does."""
        text = _command_text(statement)
        m = re.match(r"SHOW\s+(TABLES|PARTITIONS|COLUMNS)\s*(?:(?:IN|FROM)\s+)?(\S+)?", text, re.IGNORECASE)
        what, target = m.group(1).upper(), (m.group(2) or "").strip('`";')
        if what == "TABLES":
            db = target.lower() or self.database
            result.columns = ["tab_name"]
            result.rows = [(t["Name"],) for t in self.catalog.list_tables(db)]
            return
        if not target:
            raise QueryError(
                f"SHOW {what} needs a table name, e.g. SHOW {what} {'IN ' if what == 'COLUMNS' else ''}orders"
            )
        db, name = self._name(exp.to_table(target, dialect="athena"))
        table = self._require(db, name)
        if what == "PARTITIONS":
            keys = [k["Name"] for k in table.get("PartitionKeys", [])]
            result.columns = ["partition"]
            result.rows = [
                ("/".join(f"{k}={v}" for k, v in zip(keys, p["Values"], strict=True)),)
                for p in self.catalog.get_partitions(db, name)
            ]
        else:
            columns = table["StorageDescriptor"]["Columns"] + table.get("PartitionKeys", [])
            result.columns = ["field"]
            result.rows = [(c["Name"],) for c in columns]

    def _describe_table(self, statement: exp.Describe, result: QueryResult) -> None:
        db, name = self._name(statement.this)
        table = self._require(db, name)
        keys = table.get("PartitionKeys", [])
        result.columns = ["col_name", "data_type", "comment"]
        result.rows = [(c["Name"], c["Type"], c.get("Comment", "")) for c in table["StorageDescriptor"]["Columns"]]
        result.rows += [(k["Name"], k["Type"], "partition key") for k in keys]

    def _alter_add_partitions(self, statement: exp.Expression, result: QueryResult) -> None:
        text = (
            statement.sql(dialect="athena")
            if not isinstance(statement, exp.Command)
            else (f"{statement.this} {statement.expression or ''}")
        )
        m = re.match(r"\s*ALTER\s+TABLE\s+(\S+)\s+ADD\s+(IF\s+NOT\s+EXISTS\s+)?(.*)$", text, re.IGNORECASE | re.S)
        if not m:
            raise QueryError("only ALTER TABLE ... ADD [IF NOT EXISTS] PARTITION (...) [LOCATION '...'] runs locally")
        db, name = self._name(exp.to_table(m.group(1).strip('`"'), dialect="athena"))
        table = self._require(db, name)
        keys = [k["Name"] for k in table.get("PartitionKeys", [])]
        root = table["StorageDescriptor"]["Location"].rstrip("/")
        known = {tuple(p["Values"]) for p in self.catalog.get_partitions(db, name)}
        partitions = []
        for spec, location in _PARTITION_SPEC.findall(m.group(3)):
            given = {k.lower(): _unquote(v) for k, v in _KEY_VALUE.findall(spec)}
            if sorted(given) != sorted(keys):
                raise QueryError(f"PARTITION ({spec}) must give exactly the partition keys {keys} of {db}.{name}")
            values = [given[k] for k in keys]
            if tuple(values) in known and not m.group(2):
                raise QueryError(f"partition {values} of {db}.{name} already exists: use ADD IF NOT EXISTS")
            loc = (
                self._local_location(location.replace("''", "'"))
                if location
                else (f"{root}/" + "/".join(f"{k}={v}" for k, v in zip(keys, values, strict=True)))
            )
            partitions.append(partition_input(table, values, folder(loc).rstrip("/")))
        if not partitions:
            raise QueryError("ALTER TABLE ADD needs at least one PARTITION (key = 'value')")
        self.catalog.add_partitions(db, name, partitions)


def _command_text(statement: exp.Command) -> str:
    """The original text of a statement sqlglot kept as a Command (MSCK, some ALTER TABLE forms)."""
    rest = statement.expression
    rest = rest.name if isinstance(rest, exp.Literal) else (rest or "")
    return f"{statement.this} {rest}".strip()


def _hive_type(kind: exp.DataType) -> str:
    return re.sub(r"\s+", "", kind.sql(dialect="hive")).lower()


def _properties(statement: exp.Create) -> dict[str, Any]:
    """Athena CTAS `WITH (...)` properties: format, external_location, partitioned_by, ..."""
    out: dict[str, Any] = {}
    props = statement.args.get("properties")
    for p in props.expressions if props else []:
        if isinstance(p, exp.FileFormatProperty):
            out["format"] = p.this.name
        elif isinstance(p, exp.PartitionedByProperty):
            values = p.this.expressions if isinstance(p.this, exp.Array | exp.Schema | exp.Tuple) else [p.this]
            out["partitioned_by"] = [v.name for v in values]
        elif isinstance(p, exp.LocationProperty):
            out["external_location"] = p.this.name
        elif isinstance(p, exp.Property):
            value = p.args.get("value")
            out[p.name.lower()] = value.name if isinstance(value, exp.Literal) else value
    return out


# --- Athena's view format in the Glue catalog -----------------------------------------------------

_PRESTO_VIEW = re.compile(r"/\* Presto View: (.*) \*/", re.S)


def presto_view_input(name: str, database: str, athena_sql: str, columns: list[tuple[str, str]]) -> dict[str, Any]:
    """A view stored the way Athena stores it in Glue (VIRTUAL_VIEW, base64 Presto view in ViewOriginalText)."""
    body = {
        "originalSql": athena_sql,
        "catalog": "awsdatacatalog",
        "schema": database,
        "columns": [{"name": c, "type": duckdb_to_presto(t)} for c, t in columns],
        "owner": "batchlake",
        "runAsInvoker": False,
        "properties": {},
    }
    encoded = base64.b64encode(json.dumps(body).encode()).decode()
    sd = storage_descriptor([{"Name": c, "Type": duckdb_to_hive(t)} for c, t in columns], "", PARQUET_FORMAT)
    sd.update({"Location": "", "InputFormat": "", "OutputFormat": "", "SerdeInfo": {}})
    return {
        "Name": name,
        "TableType": "VIRTUAL_VIEW",
        "Parameters": {"presto_view": "true", "comment": "Presto View"},
        "ViewOriginalText": f"/* Presto View: {encoded} */",
        "ViewExpandedText": "/* Presto View */",
        "StorageDescriptor": sd,
        "PartitionKeys": [],
    }


def presto_view_sql(table: dict[str, Any]) -> str:
    m = _PRESTO_VIEW.match(table.get("ViewOriginalText", ""))
    if not m:
        raise QueryError(f"view {table['Name']} is not an Athena (Presto) view")
    return json.loads(base64.b64decode(m.group(1)))["originalSql"]
