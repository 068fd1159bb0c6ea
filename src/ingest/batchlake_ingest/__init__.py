"""batchlake-ingest: any paginated REST API into the raw zone (local folder or S3), incremental and exactly once.

Entry point: `batchlake_ingest.pipeline.ingest_dataset(contract, lake, run_id)`.
"""

__version__ = "0.1.0"
