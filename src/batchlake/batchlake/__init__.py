"""batchlake: the orchestrating CLI (contracts, backends, crawler, catalog, query, terraform, local runner)."""

__version__ = "0.1.0"
