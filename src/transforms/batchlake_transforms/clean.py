"""The standard cleaning steps, as pure `DataFrame -> DataFrame` functions.

Nothing here reads or writes storage: every function takes its parameters as arguments, so the same code is
unit-tested on small inline DataFrames, runs in Spark local[*], and runs on AWS Glue.

Row bookkeeping columns (dropped before the processed table is written):
- `_raw`: the raw JSON line, kept for quarantine;
- `_raw_run_id`: the ingest run the line came from (lineage, and tie-break for "latest wins");
- `_reject_reason`: null for good rows, else why the row goes to quarantine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from batchlake_core.contract import Column, ContractError, DatasetContract
from pyspark.errors import AnalysisException
from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType

from batchlake_transforms.schema import (
    CORRUPT_COLUMN,
    exact_decimal_schema,
    is_scalar,
    needs_exact_decimal,
    raw_json_schema,
)

RAW = "_raw"
RAW_RUN_ID = "_raw_run_id"
REJECT_REASON = "_reject_reason"
ORIGIN = "_origin"
BOOKKEEPING = (RAW, RAW_RUN_ID, REJECT_REASON, ORIGIN)
# A JSON number (RFC 8259) as Spark writes it into a string field, through a double: never more than 3 exponent digits.
# A longer exponent, only possible in a string, is left to try_cast: re-reading 1e-100000000 exactly takes minutes.
JSON_NUMBER = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]{1,3})?\z"
# A double that is zero: the number underflowed (1e-400), and it is 0 at any decimal scale (up to 38).
JSON_ZERO = r"^-?0(\.0+)?([eE][+-]?[0-9]+)?\z"


def _quote(name: str) -> str:
    return f"`{name}`"


def parse_json_lines(lines: DataFrame, contract: DatasetContract) -> DataFrame:
    """(`_raw`, `_raw_run_id`) -> one typed column per contract column, plus `_reject_reason`.

    Reasons, first match wins: the line is not JSON or not the contract's shape; a required field is missing;
    a value cannot be cast to its contract type.
    """
    parsed = lines.withColumn(
        "_parsed",
        F.from_json(
            F.col(RAW),
            raw_json_schema(contract),
            {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_COLUMN},
        ),
    )
    typed_columns: list[SparkColumn] = []
    reasons: list[SparkColumn] = [
        F.when(
            F.col(f"_parsed.{CORRUPT_COLUMN}").isNotNull(),
            F.lit("malformed record: not JSON or not the contract's shape"),
        )
    ]
    for column in contract.schema.columns:
        parsed_path = "_parsed." + ".".join(_quote(p) for p in column.source_path)
        raw_value = F.col(parsed_path)
        if is_scalar(column):
            typed = F.expr(f"try_cast({parsed_path} AS {column.type})")
            if needs_exact_decimal(column):
                # Its own column, so that the second parse runs once per row, not once per use below.
                exact = f"_exact_{column.name}"
                number = raw_value.rlike(JSON_NUMBER) & ~raw_value.rlike(JSON_ZERO)
                parsed = parsed.withColumn(exact, F.when(number, _exact_decimal(column)).otherwise(typed))
                typed = F.col(exact)
            typed = F.when(F.year(typed).between(1, 9999), typed) if column.type in ("date", "timestamp") else typed
            reasons.append(
                F.when(
                    raw_value.isNotNull() & typed.isNull(),
                    F.concat(F.lit(f"invalid {column.type} for {column.name}: "), F.substring(raw_value, 1, 80)),
                )
            )
        else:
            typed = raw_value
        if not column.nullable or column.name in contract.dedupe_key:  # a record without its key is not one record
            reasons.append(F.when(typed.isNull() & raw_value.isNull(), F.lit(f"missing required field {column.name}")))
        typed_columns.append(typed.alias(column.name))
    return parsed.select(*typed_columns, F.coalesce(*reasons).alias(REJECT_REASON), F.col(RAW), F.col(RAW_RUN_ID))


def reason_kind(reason: SparkColumn) -> SparkColumn:
    """A reject reason without the value it quotes: `invalid timestamp for created_at: yesterday` ->
    `invalid timestamp for created_at`. Runs count their quarantined records by kind: counted by full reason, a source
    that changed a format would give one count per distinct value. Each quarantined record keeps its full reason."""
    return F.regexp_replace(reason, r"(?s)^(invalid [^:]* for [^:]*): .*$", "$1").alias(REJECT_REASON)


def _exact_decimal(column: Column) -> SparkColumn:
    """The column's value read again from the raw line with its decimal type: exact where the string was rounded."""
    exact = F.from_json(F.col(RAW), exact_decimal_schema(column))
    for part in column.source_path:
        exact = exact.getField(part)
    return exact


@contextmanager
def contract_expression(spark: SparkSession, expression: str, field: str) -> Iterator[None]:
    """Build one of the contract's own Spark SQL expressions (a filter, a partition key) inside this block.

    - An expression Spark cannot analyse (a typo, an unknown column or function, bad syntax) is a ContractError naming
      the contract field, raised when the plan is built, before any data is read: not a Spark stack trace.
    - It is built without ANSI mode: a value it cannot compute (a division by zero, an index out of range, a cast)
      gives null, so that the record is quarantined instead of failing the run. Spark fixes an expression's ANSI
      behaviour when it parses and resolves it, so the rest of the job keeps the session's setting.
    """
    before = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", "false")
    try:
        yield
    except AnalysisException as e:  # ParseException is one too
        message = str(e).strip().splitlines()[0].rstrip(";")
        raise ContractError(f"contract field {field}: {expression!r} is not valid Spark SQL here: {message}") from None
    finally:
        spark.conf.set("spark.sql.ansi.enabled", before)


def apply_filters(df: DataFrame, filters: list[str]) -> DataFrame:
    """Rows failing a contract filter (Spark SQL condition), or whose filter cannot be computed, are marked for
    quarantine, not dropped."""
    for i, condition in enumerate(filters):
        field = f"transform.filters[{i}]"
        with contract_expression(df.sparkSession, condition, field):
            kind = df.select(F.expr(condition)).schema[0].dataType
            if not isinstance(kind, BooleanType):
                type_name = kind.simpleString()
                raise ContractError(f"contract field {field}: {condition!r} gives {type_name}, not a condition")
            failed = ~F.coalesce(F.expr(condition), F.lit(False))
            df = df.withColumn(
                REJECT_REASON,
                F.coalesce(F.col(REJECT_REASON), F.when(failed, F.lit(f"failed filter: {condition}"))),
            )
    return df


def add_partition_columns(df: DataFrame, contract: DatasetContract) -> DataFrame:
    """The partition key columns. A record without a value is quarantined: a null, a value that does not cast to the
    key's type (`try_cast`: under ANSI mode a plain cast would fail the job), or an empty string, which a partition
    folder cannot hold (Hive, Spark and Athena read an empty value back as null)."""
    for i, key in enumerate(contract.schema.partition_keys):
        with contract_expression(df.sparkSession, key.expression, f"schema.partition_keys[{i}].expression"):
            df = df.withColumn(key.name, F.expr(f"try_cast(({key.expression}) AS {key.type})"))
        missing = F.col(key.name).isNull()
        if key.type == "string":
            missing = missing | (F.col(key.name) == "")
        df = df.withColumn(
            REJECT_REASON,
            F.coalesce(F.col(REJECT_REASON), F.when(missing, F.lit(f"no value for partition key {key.name}"))),
        )
    return df


def split_rejected(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(good rows, rejected rows) — every input row lands in exactly one of them."""
    return df.where(F.col(REJECT_REASON).isNull()), df.where(F.col(REJECT_REASON).isNotNull())


def with_published(new_rows: DataFrame, published: DataFrame | None) -> DataFrame:
    """This run's rows with the published rows they may replace; `_origin` tells them apart: 0 = already published,
    1 = this run."""
    new_rows = new_rows.withColumn(ORIGIN, F.lit(1))
    if published is None:
        return new_rows
    published = published.withColumn(RAW_RUN_ID, F.lit(None).cast("string")).withColumn(ORIGIN, F.lit(0))
    return new_rows.unionByName(published)


def keep_latest(rows: DataFrame, contract: DatasetContract) -> DataFrame:
    """One row per key (`contract.dedupe_key`; rows from `with_published`): the greatest `contract.order_by`.

    Ties: a published row wins (re-ingesting an unchanged record changes nothing), then the newest raw run. Without an
    `order_by`, the newest raw run wins, over a published row too: there is nothing else to tell an update by.

    The rows are clustered by the partition keys first, and the dedupe runs within each partition: a record never moves
    between partitions (docs/decisions/0002-write-audit-publish.md), so all its versions meet in the task that writes
    its partition, and one shuffle serves the dedupe and `io.write_partitioned` (one file per partition value). The
    shuffle gets a fixed number of tasks (a few per core) rather than what adaptive execution would coalesce it to: a
    handful of large write tasks on a few cores leaves cores idle at the end of the stage.
    """
    partition_keys = contract.partition_key_names
    if partition_keys:
        rows = rows.repartition(4 * rows.sparkSession.sparkContext.defaultParallelism, *partition_keys)
    if contract.order_by:
        ordering = [F.col(contract.order_by).desc_nulls_last(), F.col(ORIGIN).asc()]
    else:
        ordering = [F.col(ORIGIN).desc()]
    ordering.append(F.col(RAW_RUN_ID).desc_nulls_last())
    window = Window.partitionBy(*partition_keys, *contract.dedupe_key).orderBy(*ordering)
    return rows.withColumn("_rank", F.row_number().over(window)).where(F.col("_rank") == 1).drop("_rank")


def clean(lines: DataFrame, contract: DatasetContract) -> DataFrame:
    """The `clean` job: parse, type, filter, partition. Returns every row, rejected ones with a reason."""
    df = parse_json_lines(lines, contract)
    df = apply_filters(df, contract.transform.filters)
    return add_partition_columns(df, contract)


def quarantine_records(rejected: DataFrame) -> DataFrame:
    """What the quarantine zone keeps per record: the raw line, the reason, the ingest run it came from."""
    return rejected.select(
        F.col(REJECT_REASON).alias("reason"), F.col(RAW_RUN_ID).alias("raw_run_id"), F.col(RAW).alias("record")
    )
