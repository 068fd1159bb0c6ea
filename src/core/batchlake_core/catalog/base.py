"""The catalog interface: Glue's own data model (DatabaseInput, TableInput, PartitionInput) both ways.

Every implementation returns the same normalised shapes so callers never care which one they hold:
- a table is its TableInput plus `DatabaseName`;
- a partition is its PartitionInput plus `DatabaseName` and `TableName`;
- lists come back sorted (tables by name, partitions by their values).
Fields the service adds by itself (CreateTime, UpdateTime, VersionId, CatalogId, ...) are left out, so a
table read from the local catalog equals the same table read from Glue.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cache
from typing import Any

from batchlake_core.errors import UserError


class CatalogError(UserError):
    """A catalog call failed for a reason the user can act on (unknown table, invalid input, ...)."""


@cache
def _glue_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("glue")


@cache
def shape_members(shape_name: str) -> frozenset[str]:
    """Member names of a Glue API shape, e.g. `TableInput` -> {Name, StorageDescriptor, ...}."""
    return frozenset(_glue_model().shape_for(shape_name).members)


def validate_input(shape_name: str, value: dict[str, Any]) -> None:
    """Check a payload against Glue's own API model (botocore), as Glue would before accepting it."""
    from botocore.validate import ParamValidator

    report = ParamValidator().validate(value, _glue_model().shape_for(shape_name))
    if report.has_errors():
        first = report.generate_report().splitlines()[-1].strip()
        raise CatalogError(f"invalid Glue {shape_name}: {first}")


def normalize_table(table: dict[str, Any], database: str) -> dict[str, Any]:
    keep = shape_members("TableInput")
    out = {k: v for k, v in table.items() if k in keep}
    out["DatabaseName"] = database
    return out


def normalize_partition(partition: dict[str, Any], database: str, table: str) -> dict[str, Any]:
    keep = shape_members("PartitionInput")
    out = {k: v for k, v in partition.items() if k in keep}
    out["DatabaseName"] = database
    out["TableName"] = table
    return out


def as_table_input(table: dict[str, Any]) -> dict[str, Any]:
    """A table read back from a catalog (with `DatabaseName`) is accepted as a TableInput again."""
    return {k: v for k, v in table.items() if k != "DatabaseName"}


def as_partition_input(partition: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in partition.items() if k not in ("DatabaseName", "TableName")}


class Catalog(ABC):
    """Databases, tables and partitions in Glue's data model."""

    @abstractmethod
    def ensure_database(self, name: str, description: str = "") -> None:
        """Create the database if it does not exist yet."""

    @abstractmethod
    def list_databases(self) -> list[str]: ...

    @abstractmethod
    def get_table(self, database: str, name: str) -> dict[str, Any] | None:
        """The table (TableInput + DatabaseName), or None if the database or table does not exist."""

    @abstractmethod
    def list_tables(self, database: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    def upsert_table(self, database: str, table_input: dict[str, Any]) -> None:
        """Create the table, or replace its definition if it exists (partitions are kept)."""

    @abstractmethod
    def delete_table(self, database: str, name: str) -> None:
        """Drop the table and its partitions; no error if it does not exist."""

    @abstractmethod
    def get_partitions(self, database: str, table: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    def add_partitions(self, database: str, table: str, partition_inputs: list[dict[str, Any]]) -> None:
        """Register partitions; a partition whose values already exist is updated (idempotent)."""

    @abstractmethod
    def delete_partitions(self, database: str, table: str, values_list: list[list[str]]) -> None:
        """Remove partitions by their values; unknown values are ignored."""

    # --- helpers shared by every implementation -------------------------------------------

    def require_table(self, database: str, name: str) -> dict[str, Any]:
        table = self.get_table(database, name)
        if table is None:
            known = ", ".join(t["Name"] for t in self.list_tables(database)) or "none"
            raise CatalogError(f"table {database}.{name} does not exist (tables in {database}: {known})")
        return table
