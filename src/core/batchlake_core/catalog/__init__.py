"""Glue-shaped catalog: `GlueCatalog` on AWS, `LocalCatalog` (SQLite) on a laptop; same payloads both ways."""

from batchlake_core.catalog.base import Catalog, CatalogError
from batchlake_core.catalog.glue import GlueCatalog
from batchlake_core.catalog.local import LocalCatalog

__all__ = ["Catalog", "CatalogError", "GlueCatalog", "LocalCatalog", "local_catalog_path"]


def local_catalog_path(lake_root: str) -> str:
    """Where the local catalog lives: `<lake root>/catalog/glue_catalog.sqlite`."""
    return f"{str(lake_root).rstrip('/')}/catalog/glue_catalog.sqlite"
