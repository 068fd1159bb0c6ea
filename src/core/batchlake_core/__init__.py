"""Shared pieces of batchlake: dataset contracts, lake layout, object storage."""

__version__ = "0.1.0"
