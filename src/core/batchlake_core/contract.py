"""Dataset contracts: `pipelines/<dataset>.yaml` validated into typed models.

The same YAML is read by Terraform (`yamldecode`), so keep it plain data:
no anchors that Terraform cannot read, no Python-only tags.
"""

from __future__ import annotations

import difflib
import os
import re
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator


class ContractError(ValueError):
    """A dataset contract is missing, unreadable or invalid. The message is one line naming file and field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- source -----------------------------------------------------------------------------------


class SecretRef(_Model):
    """Where a secret comes from. Never the secret itself."""

    env: str | None = Field(None, description="environment variable holding the secret (local)")
    secrets_manager: str | None = Field(None, description="AWS Secrets Manager secret id (AWS)")
    ssm_parameter: str | None = Field(None, description="SSM Parameter Store name, SecureString (AWS)")
    json_key: str | None = Field(None, description="key inside a JSON secret value")

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        given = [n for n in ("env", "secrets_manager", "ssm_parameter") if getattr(self, n)]
        if len(given) != 1:
            raise ValueError("give exactly one of env, secrets_manager, ssm_parameter")
        return self


class NoAuth(_Model):
    type: Literal["none"] = "none"


class BearerAuth(_Model):
    type: Literal["bearer"]
    token: SecretRef


class ApiKeyAuth(_Model):
    type: Literal["api_key"]
    name: str = Field(description="header or query parameter name")
    location: Literal["header", "query"] = "header"
    key: SecretRef


class BasicAuth(_Model):
    type: Literal["basic"]
    username: str
    password: SecretRef


class OAuth2ClientCredentials(_Model):
    type: Literal["oauth2_client_credentials"]
    token_url: str
    client_id: str
    client_secret: SecretRef
    scope: str | None = None


Auth = Annotated[NoAuth | BearerAuth | ApiKeyAuth | BasicAuth | OAuth2ClientCredentials, Field(discriminator="type")]


class PaginatorSpec(_Model):
    """How to walk the pages. `type` names a registered paginator; the other keys are its options."""

    model_config = ConfigDict(extra="allow", frozen=True)
    type: str = Field(description="page_number | offset | cursor | next_url | link_header | single_page | custom")


class IncrementalSpec(_Model):
    cursor_field: str = Field(description="record field that grows with changes, e.g. updated_at")
    request_param: str = Field(description="query parameter that filters the API, e.g. updated_since")
    initial_value: str = "1970-01-01T00:00:00Z"
    lookback_seconds: int = Field(0, ge=0, description="re-read this much before the saved cursor")


class RetrySpec(_Model):
    max_attempts: int = Field(8, ge=1, le=50)
    backoff_initial_seconds: float = Field(0.5, ge=0)
    backoff_max_seconds: float = Field(30.0, gt=0)
    total_budget_seconds: float = Field(300.0, gt=0, description="give up after this much time spent retrying")


class SourceSpec(_Model):
    base_url: str = Field(description="API root; ${VAR} and ${VAR:-default} read the environment")
    path: str
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    auth: Auth = Field(default_factory=NoAuth)
    paginator: PaginatorSpec
    records_path: str = Field("", description="dot path to the record list in a page body; empty = body is the list")
    primary_key: list[str] = Field(min_length=1)
    incremental: IncrementalSpec | None = None
    rate_limit_per_second: float | None = Field(None, gt=0)
    concurrency: int = Field(4, ge=1, le=64)
    timeout_seconds: float = Field(30.0, gt=0)
    retry: RetrySpec = Field(default_factory=RetrySpec)
    records_per_file: int = Field(100_000, ge=1, description="raw part file size, in records")

    def resolved_base_url(self) -> str:
        return expand_env(self.base_url)


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: str) -> str:
    """Replace ${VAR} / ${VAR:-default} with the environment's value; a missing VAR without default is an error."""

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ContractError(f"environment variable {name} is not set (referenced as ${{{name}}})")

    return _ENV_REF.sub(sub, value)


# --- schema -----------------------------------------------------------------------------------

_SIMPLE_TYPES = {"string", "boolean", "int", "bigint", "double", "date", "timestamp"}
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")


def _is_valid_type(t: str) -> bool:
    t = t.strip()
    if t in _SIMPLE_TYPES:
        return True
    if decimal := _DECIMAL.match(t):  # Athena, Glue and Spark: precision 1..38, scale at most the precision
        precision, scale = int(decimal[1]), int(decimal[2])
        return 1 <= precision <= 38 and scale <= precision
    return t.startswith(("array<", "struct<", "map<")) and t.endswith(">")


class Column(_Model):
    name: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    type: str = Field(
        description="Athena/Hive type: string, int, bigint, double, boolean, date, timestamp, decimal(p,s), "
        "array<...>, struct<...>"
    )
    nullable: bool = True
    source: str | None = Field(None, description="raw field (dot path) to read; defaults to the column name")
    description: str = ""

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if not _is_valid_type(v):
            raise ValueError(f"unknown type {v!r}")
        return v

    @property
    def source_path(self) -> tuple[str, ...]:
        """The raw field's path: `shipping.city` -> ("shipping", "city"); the column name when no source is given."""
        return tuple((self.source or self.name).split("."))


class PartitionKey(_Model):
    name: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    type: Literal["string", "date", "int"] = "string"
    expression: str = Field(description="Spark SQL expression over the processed columns, e.g. to_date(created_at)")


class SchemaSpec(_Model):
    columns: list[Column] = Field(min_length=1)
    partition_keys: list[PartitionKey] = Field(default_factory=list)
    change_policy: Literal["update", "log", "fail"] = "update"

    @model_validator(mode="after")
    def _unique_names(self) -> SchemaSpec:
        names = [c.name for c in self.columns] + [p.name for p in self.partition_keys]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate column names: {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _sources_do_not_nest(self) -> SchemaSpec:
        """`shipping` and `shipping.city` cannot both be read: one raw field cannot be a value and an object."""
        paths = {c.name: c.source_path for c in self.columns}
        for outer, outer_path in paths.items():
            for inner, inner_path in paths.items():
                if len(inner_path) > len(outer_path) and inner_path[: len(outer_path)] == outer_path:
                    raise ValueError(
                        f"column {inner} reads {'.'.join(inner_path)}, inside column {outer}'s source "
                        f"{'.'.join(outer_path)}"
                    )
        return self


# --- transform --------------------------------------------------------------------------------


class TransformSpec(_Model):
    job: str = Field("clean", description="registered transform function name in batchlake_transforms")
    dedupe_key: list[str] | None = Field(None, description="defaults to source.primary_key")
    order_by: str | None = Field(
        None, description="latest wins by this column; defaults to the incremental cursor field"
    )
    filters: list[str] = Field(default_factory=list, description="Spark SQL conditions; failing rows are quarantined")
    params: dict[str, Any] = Field(default_factory=dict)

    def dedupe_key_of(self, source: SourceSpec) -> list[str]:
        return self.dedupe_key or list(source.primary_key)

    def order_by_of(self, source: SourceSpec) -> str | None:
        return self.order_by or (source.incremental.cursor_field if source.incremental else None)


# --- quality ----------------------------------------------------------------------------------

ExpectationKind = Literal[
    "row_count_between",
    "not_null",
    "unique",
    "between",
    "in_set",
    "matches_regex",
    "fresher_than",
    "references",
]


class Expectation(_Model):
    expect: ExpectationKind
    column: str | None = None
    columns: list[str] | None = None
    min: float | str | None = None
    max: float | str | None = None
    values: list[Any] | None = None
    regex: str | None = None
    max_age_hours: float | None = None
    dataset: str | None = Field(None, description="for references: the other dataset")
    dataset_column: str | None = Field(None, description="for references: its column")
    mostly: float = Field(1.0, gt=0, le=1)
    severity: Literal["error", "warn"] = "error"

    @model_validator(mode="after")
    def _needs(self) -> Expectation:
        need: dict[str, tuple[str, ...]] = {
            "not_null": ("column",),
            "between": ("column",),
            "in_set": ("column", "values"),
            "matches_regex": ("column", "regex"),
            "fresher_than": ("column", "max_age_hours"),
            "references": ("column", "dataset", "dataset_column"),
        }
        missing = [f for f in need.get(self.expect, ()) if getattr(self, f) in (None, [])]
        if self.expect == "unique" and not (self.column or self.columns):
            missing.append("column")
        if self.expect in ("between", "row_count_between") and self.min is None and self.max is None:
            missing.append("min or max")
        if missing:
            raise ValueError(f"expectation {self.expect} needs {', '.join(missing)}")
        return self


# --- the contract -----------------------------------------------------------------------------


class DatasetContract(_Model):
    dataset: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    owner: str = ""
    schedule: str | None = Field(None, description="AWS cron() or rate() expression for the Glue workflow trigger")
    source: SourceSpec
    schema_: SchemaSpec = Field(alias="schema")
    transform: TransformSpec = Field(default_factory=TransformSpec, validate_default=True)
    quality: list[Expectation] = Field(default_factory=list)
    sql: list[str] = Field(default_factory=list, description="paths of SQL files, relative to the repo root")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("transform")
    @classmethod
    def _transform_names_columns(cls, transform: TransformSpec, info: ValidationInfo) -> TransformSpec:
        """The dedupe key and `order_by` name processed columns. Their defaults, `source.primary_key` and the
        incremental cursor, name raw fields: a mismatch shows here, not as a Spark error after the ingest."""
        schema, source = info.data.get("schema_"), info.data.get("source")
        if schema is None or source is None:
            return transform  # invalid already, and reported as such
        columns = {c.name: c for c in schema.columns}
        for key in transform.dedupe_key_of(source):
            if key not in columns:
                raise ValueError(
                    f"dedupe key {key} is not a column ({', '.join(columns)}): when source.primary_key names raw "
                    "fields, set transform.dedupe_key to their columns"
                )
        order_by = transform.order_by_of(source)
        if order_by and order_by not in columns:
            raise ValueError(
                f"order_by {order_by} is not a column ({', '.join(columns)}): when the incremental cursor names a raw "
                "field, set transform.order_by to its column"
            )
        return transform

    @field_validator("quality")
    @classmethod
    def _expectations_name_columns(cls, quality: list[Expectation], info: ValidationInfo) -> list[Expectation]:
        schema = info.data.get("schema_")
        if schema is None:
            return quality
        names = [c.name for c in schema.columns] + [p.name for p in schema.partition_keys]
        for position, e in enumerate(quality):
            for name in [e.column] if e.column else e.columns or []:
                if name not in names:
                    raise ValueError(f"expectation {position} ({e.expect}) names {name}, not a column")
        return quality

    @model_validator(mode="after")
    def _partitions_do_not_follow_versions(self) -> DatasetContract:
        """A record never moves between partitions (docs/decisions/0002-write-audit-publish.md): a partition key over
        the column that orders its versions would move it with every update."""
        if self.order_by:
            for key in self.schema_.partition_keys:
                if re.search(rf"\b{re.escape(self.order_by)}\b", key.expression):
                    raise ValueError(
                        f"partition key {key.name} ({key.expression}) uses {self.order_by}, which changes with every "
                        "version of a record: partition on a column that never changes, such as a creation time"
                    )
        return self

    @property
    def schema(self) -> SchemaSpec:  # type: ignore[override]
        return self.schema_

    @property
    def dedupe_key(self) -> list[str]:
        return self.transform.dedupe_key_of(self.source)

    @property
    def order_by(self) -> str | None:
        return self.transform.order_by_of(self.source)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.schema_.columns]

    @property
    def partition_key_names(self) -> list[str]:
        return [p.name for p in self.schema_.partition_keys]


def _error_message(err: dict[str, Any]) -> str:
    """One pydantic error as `field 'a.b': problem`, with a suggestion for a misspelt field name."""
    location = ".".join(str(p) for p in err["loc"])
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        known = _known_fields(err["loc"][:-1])
        close = difflib.get_close_matches(str(err["loc"][-1]), known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(known)}"
        message = f"unknown field; {hint}" if known else message
    return f"field '{location}': {message}" if location else message


def _known_fields(parent: tuple[Any, ...]) -> list[str]:
    """The field names the contract's model accepts at `parent` (a location in the YAML), [] where it cannot tell."""
    model: Any = DatasetContract
    for part in parent:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        types = _types_in(field.annotation) if field else []
        models = [t for t in types if isinstance(t, type) and issubclass(t, BaseModel)]
        if len(models) != 1:
            return []
        model = models[0]
    return sorted(f.alias or n for n, f in model.model_fields.items())


def _types_in(annotation: Any) -> list[Any]:
    """The classes inside a type annotation (`list[Expectation] | None` -> [list, Expectation, NoneType])."""
    args = typing.get_args(annotation)
    return [annotation] if not args else [t for a in args for t in _types_in(a)]


def load_contract(path: str | Path) -> DatasetContract:
    """Read and validate one contract; any problem raises ContractError with one line naming file and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ContractError(f"{path}: cannot read contract ({e.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ContractError(f"{path}:{where} invalid YAML ({getattr(e, 'problem', e)})") from None
    return parse_contract(data, str(path))


def parse_contract(data: Any, origin: str = "<contract>") -> DatasetContract:
    if not isinstance(data, dict):
        raise ContractError(f"{origin}: a contract must be a YAML mapping, got {type(data).__name__}")
    try:
        contract = DatasetContract.model_validate(data)
    except ValidationError as e:
        extra = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise ContractError(f"{origin}: {_error_message(e.errors()[0])}{extra}") from None
    stem = Path(origin).stem
    if origin.endswith((".yaml", ".yml")) and stem != contract.dataset:
        raise ContractError(f"{origin}: field 'dataset': is {contract.dataset!r} but the file is named {stem!r}")
    return contract


def load_contracts(pipelines_dir: str | Path) -> dict[str, DatasetContract]:
    """All contracts in a folder, by dataset name."""
    pipelines_dir = Path(pipelines_dir)
    if not pipelines_dir.is_dir():
        raise ContractError(f"{pipelines_dir}: no pipelines folder (expected pipelines/<dataset>.yaml files)")
    contracts = {}
    paths = {}
    for path in sorted(pipelines_dir.glob("*.yaml")):
        c = load_contract(path)
        contracts[c.dataset], paths[c.dataset] = c, path
    for dataset, contract in contracts.items():
        if problem := _reference_problem(contract, contracts):
            raise ContractError(f"{paths[dataset]}: {problem}")
    return contracts


def _reference_problem(contract: DatasetContract, contracts: dict[str, DatasetContract]) -> str | None:
    """Why a `references` expectation of `contract` names a column its dataset does not have, or None. A dataset
    defined outside this folder (another team's, published to the same lake) is checked when the run reads it."""
    for position, e in enumerate(contract.quality):
        other = contracts.get(e.dataset or "") if e.expect == "references" else None
        if other is None:
            continue
        names = other.column_names + other.partition_key_names
        if e.dataset_column not in names:
            return (
                f"field 'quality.{position}.dataset_column': {e.dataset} has no column {e.dataset_column} "
                f"(columns: {', '.join(names)})"
            )
    return None
