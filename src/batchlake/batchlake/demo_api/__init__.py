"""The demo shop REST API shipped with batchlake: deterministic orders and customers for ingestion tests and demos.

`python -m batchlake.demo_api --help` or `batchlake demo-api --help` runs it; `server.DemoApiServer` starts it in a
subprocess from Python.
"""
