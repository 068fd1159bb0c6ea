"""The AWS Glue Data Catalog through boto3. Same payloads and return shapes as `LocalCatalog`."""

from __future__ import annotations

from typing import Any

from batchlake_core.catalog.base import (
    Catalog,
    CatalogError,
    as_partition_input,
    as_table_input,
    normalize_partition,
    normalize_table,
)

_BATCH_CREATE = 100  # BatchCreatePartition limit
_BATCH_DELETE = 25  # BatchDeletePartition limit


class GlueCatalog(Catalog):
    def __init__(self, glue_client: Any = None, catalog_id: str | None = None) -> None:
        if glue_client is None:
            import boto3

            glue_client = boto3.client("glue")
        self.glue = glue_client
        self._catalog = {"CatalogId": catalog_id} if catalog_id else {}

    def __repr__(self) -> str:
        return f"GlueCatalog(region={self.glue.meta.region_name!r})"

    def _not_found(self, e: Exception) -> bool:
        return getattr(e, "response", {}).get("Error", {}).get("Code") == "EntityNotFoundException"

    def _fail(self, action: str, e: Exception) -> CatalogError:
        err = getattr(e, "response", {}).get("Error", {})
        return CatalogError(f"Glue {action} failed: {err.get('Code', type(e).__name__)}: {err.get('Message', e)}")

    # databases
    def ensure_database(self, name: str, description: str = "") -> None:
        from botocore.exceptions import ClientError

        database_input: dict[str, Any] = {"Name": name}
        if description:
            database_input["Description"] = description
        try:
            self.glue.create_database(DatabaseInput=database_input, **self._catalog)
        except ClientError as e:
            if e.response["Error"]["Code"] != "AlreadyExistsException":
                raise self._fail("CreateDatabase", e) from None

    def list_databases(self) -> list[str]:
        names = []
        for page in self.glue.get_paginator("get_databases").paginate(**self._catalog):
            names += [d["Name"] for d in page["DatabaseList"]]
        return sorted(names)

    # tables
    def get_table(self, database: str, name: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            table = self.glue.get_table(DatabaseName=database, Name=name, **self._catalog)["Table"]
        except ClientError as e:
            if self._not_found(e):
                return None
            raise self._fail("GetTable", e) from None
        return normalize_table(table, database)

    def list_tables(self, database: str) -> list[dict[str, Any]]:
        from botocore.exceptions import ClientError

        tables = []
        try:
            for page in self.glue.get_paginator("get_tables").paginate(DatabaseName=database, **self._catalog):
                tables += [normalize_table(t, database) for t in page["TableList"]]
        except ClientError as e:
            if self._not_found(e):
                return []
            raise self._fail("GetTables", e) from None
        return sorted(tables, key=lambda t: t["Name"])

    def upsert_table(self, database: str, table_input: dict[str, Any]) -> None:
        from botocore.exceptions import ClientError

        table_input = as_table_input(table_input)
        try:
            if self.get_table(database, table_input["Name"]) is None:
                self.glue.create_table(DatabaseName=database, TableInput=table_input, **self._catalog)
            else:
                self.glue.update_table(DatabaseName=database, TableInput=table_input, **self._catalog)
        except ClientError as e:
            raise self._fail("CreateTable/UpdateTable", e) from None

    def delete_table(self, database: str, name: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.glue.delete_table(DatabaseName=database, Name=name, **self._catalog)
        except ClientError as e:
            if not self._not_found(e):
                raise self._fail("DeleteTable", e) from None

    # partitions
    def get_partitions(self, database: str, table: str) -> list[dict[str, Any]]:
        from botocore.exceptions import ClientError

        parts = []
        try:
            pages = self.glue.get_paginator("get_partitions").paginate(
                DatabaseName=database, TableName=table, **self._catalog
            )
            for page in pages:
                parts += [normalize_partition(p, database, table) for p in page["Partitions"]]
        except ClientError as e:
            if self._not_found(e):
                return []
            raise self._fail("GetPartitions", e) from None
        return sorted(parts, key=lambda p: p["Values"])

    def add_partitions(self, database: str, table: str, partition_inputs: list[dict[str, Any]]) -> None:
        from botocore.exceptions import ClientError

        partition_inputs = [as_partition_input(p) for p in partition_inputs]
        existing: list[dict[str, Any]] = []
        for i in range(0, len(partition_inputs), _BATCH_CREATE):
            batch = partition_inputs[i : i + _BATCH_CREATE]
            try:
                resp = self.glue.batch_create_partition(
                    DatabaseName=database, TableName=table, PartitionInputList=batch, **self._catalog
                )
            except ClientError as e:
                raise self._fail("BatchCreatePartition", e) from None
            by_values = {tuple(p["Values"]): p for p in batch}
            for err in resp.get("Errors", []):
                code = err["ErrorDetail"].get("ErrorCode")
                if code != "AlreadyExistsException":
                    msg = err["ErrorDetail"].get("ErrorMessage", "")
                    raise CatalogError(f"Glue BatchCreatePartition failed for {err['PartitionValues']}: {code}: {msg}")
                existing.append(by_values[tuple(err["PartitionValues"])])
        # idempotent: partitions that already exist get the new definition (BatchUpdatePartition, 100 per call)
        for i in range(0, len(existing), _BATCH_CREATE):
            batch = existing[i : i + _BATCH_CREATE]
            entries = [{"PartitionValueList": p["Values"], "PartitionInput": p} for p in batch]
            try:
                resp = self.glue.batch_update_partition(
                    DatabaseName=database, TableName=table, Entries=entries, **self._catalog
                )
            except ClientError as e:
                raise self._fail("BatchUpdatePartition", e) from None
            for err in resp.get("Errors", []):
                detail = err.get("ErrorDetail", {})
                raise CatalogError(
                    f"Glue BatchUpdatePartition failed for {err.get('PartitionValueList')}: "
                    f"{detail.get('ErrorCode')}: {detail.get('ErrorMessage', '')}"
                )

    def delete_partitions(self, database: str, table: str, values_list: list[list[str]]) -> None:
        from botocore.exceptions import ClientError

        for i in range(0, len(values_list), _BATCH_DELETE):
            batch = [{"Values": list(v)} for v in values_list[i : i + _BATCH_DELETE]]
            try:
                resp = self.glue.batch_delete_partition(
                    DatabaseName=database, TableName=table, PartitionsToDelete=batch, **self._catalog
                )
            except ClientError as e:
                if self._not_found(e):
                    return
                raise self._fail("BatchDeletePartition", e) from None
            for err in resp.get("Errors", []):
                if err["ErrorDetail"].get("ErrorCode") != "EntityNotFoundException":
                    raise CatalogError(f"Glue BatchDeletePartition failed for {err['PartitionValues']}: {err}")
