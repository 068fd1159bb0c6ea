"""The data-quality gate: a Great Expectations suite built from the contract, run on the staged data.

`error` expectations block publication; `warn` expectations are reported only.

Speed (docs/decisions/0502-validation-two-passes.md): on Spark, GX's SUMMARY result format costs one full scan per
expectation for the sample of unexpected values and another for their counts, even when nothing is unexpected
(29 Spark jobs for the orders contract). So the suite first runs with BOOLEAN_ONLY (the bundled aggregate pass:
9 jobs), and only the expectations that failed, or may have tolerated failures (`mostly` < 1), or report an observed
value, run again with SUMMARY to collect their counts and sample failing values. Both passes read the same cached,
column-pruned DataFrame.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from batchlake_core.contract import DatasetContract, Expectation

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no network calls from GX

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

# For `references`: (dataset, column) -> a DataFrame whose first column holds the referenced dataset's keys.
References = dict[tuple[str, str], DataFrame]


@dataclass
class ExpectationOutcome:
    name: str
    description: str
    severity: str
    success: bool
    observed: str
    unexpected_count: int | None = None
    sample_unexpected: list[Any] = field(default_factory=list)


@dataclass
class QualityResult:
    outcomes: list[ExpectationOutcome]
    # The Great Expectations result the outcomes come from (rendered as Data Docs by `data_docs.write_data_docs`).
    gx_result: ExpectationSuiteValidationResult | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> int:
        return sum(o.success for o in self.outcomes)

    @property
    def failed(self) -> int:
        return sum(not o.success for o in self.outcomes)

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "error"]

    @property
    def publishable(self) -> bool:
        return not self.blocking_failures


def describe(e: Expectation) -> str:
    column = e.column or ", ".join(e.columns or [])
    mostly = f" (at least {e.mostly:.0%})" if e.mostly < 1 else ""
    texts = {
        "row_count_between": f"row count at least {e.min}" if e.max is None else f"row count {e.min}..{e.max}",
        "not_null": f"{column} is never null",
        "unique": f"{column} is unique",
        "between": f"{column} between {e.min} and {e.max}",
        "in_set": f"{column} in {e.values}",
        "matches_regex": f"{column} matches {e.regex}",
        "fresher_than": f"newest {column} less than {e.max_age_hours} h old",
        "references": f"{column} exists in {e.dataset}.{e.dataset_column}",
    }
    return texts[e.expect] + mostly


def missing_reference_column(e: Expectation) -> str:
    return f"_missing_{e.dataset}_{e.dataset_column}_for_{e.column}"


def with_reference_checks(df: DataFrame, expectations: list[Expectation], references: References) -> DataFrame:
    """For each `references` expectation add a column holding the value when it has no match, else null.

    A broadcast left join scales to millions of keys, where `value in (<20,000 literals>)` takes minutes.
    A referenced dataset that is not there yet counts as empty: every value is missing.
    """
    for e in expectations:
        if e.expect != "references":
            continue
        keys = references.get((e.dataset or "", e.dataset_column or ""))
        flag = f"{missing_reference_column(e)}_found"
        if keys is None:
            df = df.withColumn(missing_reference_column(e), F.col(e.column))
            continue
        keys = keys.select(F.col(keys.columns[0]).alias("_ref_key")).distinct().withColumn(flag, F.lit(True))
        df = df.join(F.broadcast(keys), F.col(e.column) == F.col("_ref_key"), "left")
        missing = F.when(F.col(flag).isNull() & F.col(e.column).isNotNull(), F.col(e.column))
        df = df.withColumn(missing_reference_column(e), missing).drop("_ref_key", flag)
    return df


def to_gx(e: Expectation, now: datetime, position: int = 0) -> gxe.Expectation:
    """One contract expectation -> one GX expectation (severity, description and position in the contract in `meta`)."""
    common: dict[str, Any] = {"meta": {"severity": e.severity, "description": describe(e), "position": position}}
    column_kw = {"column": e.column, "mostly": e.mostly, **common}
    match e.expect:
        case "row_count_between":
            return gxe.ExpectTableRowCountToBeBetween(min_value=e.min, max_value=e.max, **common)
        case "not_null":
            return gxe.ExpectColumnValuesToNotBeNull(**column_kw)
        case "unique" if e.columns:
            return gxe.ExpectCompoundColumnsToBeUnique(column_list=e.columns, mostly=e.mostly, **common)
        case "unique":
            return gxe.ExpectColumnValuesToBeUnique(**column_kw)
        case "between":
            return gxe.ExpectColumnValuesToBeBetween(min_value=e.min, max_value=e.max, **column_kw)
        case "in_set":
            return gxe.ExpectColumnValuesToBeInSet(value_set=e.values, **column_kw)
        case "matches_regex":
            return gxe.ExpectColumnValuesToMatchRegex(regex=e.regex, **column_kw)
        case "fresher_than":
            oldest_allowed = now - timedelta(hours=e.max_age_hours or 0)
            return gxe.ExpectColumnMaxToBeBetween(
                column=e.column, min_value=oldest_allowed.replace(tzinfo=None), **common
            )
        case "references":
            return gxe.ExpectColumnValuesToBeNull(**(column_kw | {"column": missing_reference_column(e)}))
    raise ValueError(f"unsupported expectation {e.expect}")


def _observed(result: dict[str, Any], success: bool) -> str:
    if not result and success:  # a BOOLEAN_ONLY result: nothing unexpected
        return "no unexpected value"
    if "observed_value" in result:
        return str(result["observed_value"])
    if "unexpected_count" in result:
        pct = result.get("unexpected_percent")
        pct_text = f" ({pct:.2f}%)" if isinstance(pct, int | float) else ""
        return f"{result['unexpected_count']} unexpected{pct_text} of {result.get('element_count', '?')}"
    return ""


# Expectations whose result is an observed value (a row count, a maximum), not a count of unexpected rows.
_OBSERVED_VALUE = {"row_count_between", "fresher_than"}
SAMPLE_SIZE = 10
DETAILED_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}


def needs_details(e: Expectation, success: bool) -> bool:
    """Whether the second (SUMMARY) pass must run this expectation for its counts and sample failing values."""
    return not success or e.mostly < 1 or e.expect in _OBSERVED_VALUE


def columns_used(expectations: list[Expectation]) -> list[str]:
    names = [c for e in expectations for c in ([e.column] if e.column else []) + list(e.columns or [])]
    return list(dict.fromkeys(names))


def validate(
    df: DataFrame,
    contract: DatasetContract,
    references: References | None = None,
    now: datetime | None = None,
    run_name: str | None = None,
) -> QualityResult:
    """Run the contract's expectations on a Spark DataFrame (the staged output).

    `run_name` (e.g. the batchlake run id) names the GX run, as shown in Data Docs.
    """
    if not contract.quality:
        return QualityResult([])
    expectations = contract.quality
    df = df.select(*columns_used(expectations))
    # PySpark hands a timestamp to Python in the process's local time zone, where GX compares it (`fresher_than`,
    # `between`) and shows it. As a timestamp without time zone it stays the UTC time it is in the session (UTC).
    for f in df.schema.fields:
        if isinstance(f.dataType, T.TimestampType):
            df = df.withColumn(f.name, F.col(f.name).cast("timestamp_ntz"))
    df = with_reference_checks(df, expectations, references or {}).persist(StorageLevel.MEMORY_AND_DISK)
    now = now or datetime.now(UTC)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_spark(name="staged")
        .add_dataframe_asset(name=contract.dataset)
        .add_batch_definition_whole_dataframe("whole_run")
    )
    run_id = RunIdentifier(run_name=run_name, run_time=now)

    def run(name: str, positions: list[int], result_format: Any) -> ExpectationSuiteValidationResult:
        suite = context.suites.add(gx.ExpectationSuite(name=name))
        for i in positions:
            suite.add_expectation(to_gx(expectations[i], now, i))
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{name}_gate", data=batch_definition, suite=suite)
        )
        return validation.run(batch_parameters={"dataframe": df}, result_format=result_format, run_id=run_id)

    try:
        gate = run(f"{contract.dataset}_contract", list(range(len(expectations))), "BOOLEAN_ONLY")
        by_position = {r.expectation_config.meta["position"]: r for r in gate.results}
        detail = [i for i, r in sorted(by_position.items()) if needs_details(expectations[i], bool(r.success))]
        if detail:
            detailed = run(f"{contract.dataset}_contract_details", detail, DETAILED_FORMAT)
            by_position |= {r.expectation_config.meta["position"]: r for r in detailed.results}
    finally:
        df.unpersist()
    gate.results = [by_position[i] for i in sorted(by_position)]
    outcomes = []
    for r in gate.results:
        config = r.expectation_config
        meta = config.meta or {}
        res = r.result or {}
        description = meta.get("description", config.type)
        e = expectations[meta["position"]] if "position" in meta else None
        unpublished = e and e.expect == "references" and (e.dataset, e.dataset_column) not in (references or {})
        if unpublished and not r.success:
            description += f" ({e.dataset} is not published in this lake: every value counts as missing)"
        outcomes.append(
            ExpectationOutcome(
                name=config.type,
                description=description,
                severity=meta.get("severity", "error"),
                success=bool(r.success),
                observed=_observed(res, bool(r.success)),
                unexpected_count=res.get("unexpected_count"),
                sample_unexpected=[str(v) for v in (res.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]],
            )
        )
    return QualityResult(outcomes, gx_result=gate)
