"""Transform jobs by name, as a contract's `transform.job` refers to them.

A job is a pure function `(lines: DataFrame, contract) -> DataFrame` returning every input row, rejected rows with
a `_reject_reason`. `clean` covers most datasets; a dataset that needs more registers one function:

    @register_job("orders_enriched")
    def orders_enriched(lines, contract):
        df = clean(lines, contract)
        return df.withColumn("item_count", F.size("items"))
"""

from __future__ import annotations

from collections.abc import Callable

from batchlake_core.contract import ContractError, DatasetContract
from pyspark.sql import DataFrame

from batchlake_transforms.clean import clean

TransformJob = Callable[[DataFrame, DatasetContract], DataFrame]
_JOBS: dict[str, TransformJob] = {"clean": clean}


def register_job(name: str) -> Callable[[TransformJob], TransformJob]:
    def decorate(fn: TransformJob) -> TransformJob:
        if name in _JOBS and _JOBS[name] is not fn:
            raise ValueError(f"transform job {name!r} is already registered")
        _JOBS[name] = fn
        return fn

    return decorate


def get_job(name: str) -> TransformJob:
    try:
        return _JOBS[name]
    except KeyError:
        raise ContractError(
            f"unknown job {name!r} (registered: {', '.join(sorted(_JOBS))}): fix the name, or register the "
            "function with @register_job in batchlake_transforms.registry"
        ) from None
