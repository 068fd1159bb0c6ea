"""Athena SQL -> DuckDB SQL: sqlglot (`read="athena"`, `write="duckdb"`) plus the fixes sqlglot lacks.

Fixes made on the syntax tree before DuckDB SQL is generated:
- `CROSS JOIN UNNEST(array_of_rows) AS t(a, b, ...)` expands each row into columns, as Athena does
  (and `UNNEST(a1, a2) AS t(x, y)` zips several arrays), `WITH ORDINALITY` included;
- `format_datetime` / `parse_datetime` take Java (Joda) patterns: converted to strftime patterns.
Integer division and the UTC session zone are DuckDB settings (see `duckdb_engine.SESSION_SETTINGS`).
DDL (CTAS with properties, CREATE EXTERNAL TABLE, MSCK REPAIR TABLE, ALTER TABLE ADD PARTITION, views)
is not transpiled but executed against the catalog by the engine.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from batchlake.errors import UserError


class QueryError(UserError):
    """A query that cannot be parsed, transpiled or run. The message is one line."""


def _position_error(sql: str, err: ParseError, origin: str) -> QueryError:
    first = err.errors[0] if err.errors else {}
    line, col = first.get("line"), first.get("col")
    where = f"line {line}, column {col}" if line else "unknown position"
    near = (first.get("highlight") or "").strip()
    what = first.get("description") or str(err).splitlines()[0]
    near_text = f" near {near!r}" if near else ""
    return QueryError(f"{origin}: syntax error at {where}{near_text}: {what}")


def parse_statements(sql: str, origin: str = "query") -> list[exp.Expression]:
    """Athena statements in `sql` (separated by `;`), parsed; a syntax error names its line and column."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except ParseError as e:
        raise _position_error(sql, e, origin) from None
    if not statements:
        raise QueryError(f"{origin}: no SQL statement found")
    return statements


# --- Java (Joda) date patterns -> strftime ----------------------------------------------------

_JAVA_TOKENS = [
    ("yyyy", "%Y"),
    ("yy", "%y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("M", "%-m"),
    ("dd", "%d"),
    ("d", "%-d"),
    ("HH", "%H"),
    ("H", "%-H"),
    ("hh", "%I"),
    ("h", "%-I"),
    ("mm", "%M"),
    ("m", "%-M"),
    ("ss", "%S"),
    ("s", "%-S"),
    ("SSSSSS", "%f"),
    ("SSS", "%g"),
    ("EEEE", "%A"),
    ("EEE", "%a"),
    ("a", "%p"),
    ("ZZ", "%z"),
    ("Z", "%z"),
    ("z", "%Z"),
    ("DDD", "%j"),
    ("ww", "%V"),
]
_JAVA_PATTERN = re.compile("'[^']*'|" + "|".join(re.escape(t) for t, _ in _JAVA_TOKENS))


def java_to_strftime(pattern: str) -> str:
    mapping = dict(_JAVA_TOKENS)

    def sub(m: re.Match[str]) -> str:
        token = m.group(0)
        if token.startswith("'"):
            return token[1:-1].replace("%", "%%") or "'"
        return mapping[token]

    return _JAVA_PATTERN.sub(sub, pattern)


def _fix_java_date_functions(node: exp.Expression) -> exp.Expression:
    parse_datetime = getattr(exp, "ParseDatetime", None)
    if parse_datetime and isinstance(node, parse_datetime):  # sqlglot passes the Java pattern through as is
        fmt = node.args.get("format")
        if isinstance(fmt, exp.Literal):
            return exp.Anonymous(
                this="STRPTIME", expressions=[node.this, exp.Literal.string(java_to_strftime(fmt.name))]
            )
        return node
    if not isinstance(node, exp.Anonymous):
        return node
    name = node.name.lower()
    args = node.expressions
    if name in ("format_datetime", "parse_datetime") and len(args) == 2 and isinstance(args[1], exp.Literal):
        fmt = java_to_strftime(args[1].name)
        func = "STRFTIME" if name == "format_datetime" else "STRPTIME"
        return exp.Anonymous(this=func, expressions=[args[0], exp.Literal.string(fmt)])
    return node


# --- date_trunc keeps the type of its argument on Athena (a date stays a date) ----------------------

_TRUNC_WIDTH = {
    "second": "1 second",
    "minute": "1 minute",
    "hour": "1 hour",
    "day": "1 day",
    "week": "1 week",  # DuckDB's default origin 2000-01-03 is a Monday: ISO weeks, as Athena
    "month": "1 month",
    "quarter": "3 months",
    "year": "1 year",
}


def _fix_date_trunc(node: exp.Expression) -> exp.Expression:
    """DuckDB's date_trunc turns a DATE into a TIMESTAMP; time_bucket keeps DATE as DATE (and TIMESTAMP)."""
    if not isinstance(node, exp.DateTrunc | exp.TimestampTrunc):
        return node
    unit = node.args.get("unit")
    width = _TRUNC_WIDTH.get(unit.name.lower()) if unit is not None else None
    if width is None:
        return node
    interval = exp.Interval(this=exp.Literal.string(width))
    return exp.Anonymous(this="TIME_BUCKET", expressions=[interval, node.this])


# --- date_add on a date stays a date on Athena ---------------------------------------------------

_DATE_UNITS = {"day", "week", "month", "quarter", "year"}


def _is_date(node: exp.Expression, date_columns: frozenset[str]) -> bool:
    """Whether an expression is a DATE, from its form or the catalog's column types."""
    if isinstance(node, exp.Column):
        return node.name.lower() in date_columns
    if isinstance(node, exp.Cast):
        return node.to.this == exp.DataType.Type.DATE
    if isinstance(node, exp.CurrentDate | exp.Date | exp.TsOrDsToDate | exp.DateStrToDate):
        return True
    if isinstance(node, exp.DateAdd | exp.DateSub | exp.Add | exp.Sub):
        return bool(node.meta.get("athena_date"))
    if isinstance(node, exp.Literal | exp.Cast) and node.meta.get("athena_date"):
        return True
    return isinstance(node, exp.Paren) and _is_date(node.this, date_columns)


def _fix_date_add(date_columns: frozenset[str]):
    def fix(node: exp.Expression) -> exp.Expression:
        if node.meta.get("athena_date"):
            return node
        if isinstance(node, exp.DateAdd | exp.DateSub):  # date_add('day', n, d)
            unit = node.args.get("unit")
            date_arg = node.this
        elif isinstance(node, exp.Add | exp.Sub) and isinstance(node.expression, exp.Interval):  # d - INTERVAL '7' DAY
            unit = node.expression.args.get("unit")
            date_arg = node.this
        else:
            return node
        if unit is not None and unit.name.lower() in _DATE_UNITS and _is_date(date_arg, date_columns):
            node.meta["athena_date"] = True
            return exp.Cast(this=node, to=exp.DataType.build("DATE"))
        return node

    return fix


# --- functions with lambda arguments DuckDB names differently -----------------------------------


def _fix_format(node: exp.Expression) -> exp.Expression:
    """Athena's format() takes Java/printf patterns (%s, %d); DuckDB's format() takes {}: use printf."""
    format_node = getattr(exp, "Format", None)
    if format_node is not None and isinstance(node, format_node):
        return exp.Anonymous(this="PRINTF", expressions=[node.this.copy(), *[e.copy() for e in node.expressions]])
    return node


def _fix_match_functions(node: exp.Expression) -> exp.Expression:
    """any_match / all_match / none_match(array, x -> predicate) as counts of list_filter."""
    if not isinstance(node, exp.Anonymous) or node.name.lower() not in ("any_match", "all_match", "none_match"):
        return node
    if len(node.expressions) != 2:
        return node
    array, predicate = node.expressions
    matching = exp.Anonymous(
        this="LEN", expressions=[exp.Anonymous(this="LIST_FILTER", expressions=[array.copy(), predicate.copy()])]
    )
    name = node.name.lower()
    if name == "any_match":
        return exp.GT(this=matching, expression=exp.Literal.number(0))
    if name == "none_match":
        return exp.EQ(this=matching, expression=exp.Literal.number(0))
    return exp.EQ(this=matching, expression=exp.Anonymous(this="LEN", expressions=[array.copy()]))


# --- UNNEST ... AS t(a, b) -----------------------------------------------------------------------


def _fix_unnest(node: exp.Expression) -> exp.Expression:
    """Rewrite UNNEST in FROM/JOIN whose alias names more columns than DuckDB's UNNEST produces."""
    if not isinstance(node, exp.Unnest) or not isinstance(node.parent, (exp.Join, exp.From)):
        return node
    alias = node.args.get("alias")
    columns = list(alias.columns) if alias else []
    arrays = node.expressions
    offset = node.args.get("offset")
    ordinality = offset if isinstance(offset, exp.Identifier) else None
    if ordinality is not None:
        columns.append(ordinality)
    n_values = len(columns) - (1 if ordinality else 0)
    if len(arrays) == 1 and n_values <= 1:
        return node  # DuckDB does the same as Athena
    if len(arrays) == 1:
        # one array of rows (or a map) expanded into its fields, row by row
        inner_cols = "_bl_row" + (", _bl_n" if ordinality else "")
        ordinality_sql = " WITH ORDINALITY" if ordinality else ""
        select = "UNNEST(_bl_row)" + (", _bl_n" if ordinality else "")
        sub = f"SELECT {select} FROM UNNEST(_bl_arr){ordinality_sql} AS _bl_u({inner_cols})"
        subquery = sqlglot.parse_one(sub, read="duckdb")
        subquery.find(exp.Unnest).set("expressions", [arrays[0].copy()])
    else:
        if ordinality:
            raise QueryError("WITH ORDINALITY over several arrays is not supported locally: unnest them one by one")
        subquery = exp.select(*[exp.Unnest(expressions=[a.copy()]) for a in arrays])
    lateral = exp.Lateral(
        this=exp.Subquery(this=subquery),
        alias=exp.TableAlias(
            this=alias.this.copy() if alias and alias.this else exp.to_identifier("_bl_t"),
            columns=[c.copy() for c in columns],
        ),
    )
    return lateral


def _name_columns_like_athena(tree: exp.Expression) -> None:
    """Athena names an unnamed result column `_col<position>` (DuckDB would use the expression text)."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if isinstance(select, exp.Subquery):
        select = select.unnest()
    if not isinstance(select, exp.Select):
        return
    named = []
    for i, e in enumerate(select.expressions):
        if isinstance(e, exp.Alias | exp.Column | exp.Star | exp.Dot):
            named.append(e)
        else:
            named.append(exp.alias_(e, f"_col{i}"))
    select.set("expressions", named)


def to_duckdb(statement: exp.Expression, date_columns: frozenset[str] = frozenset()) -> str:
    """DuckDB SQL for one parsed Athena statement (a query or a plain statement DuckDB can run).

    `date_columns`: names of the DATE columns of the tables the statement reads (from the catalog), so
    that date arithmetic keeps returning dates as on Athena.
    """
    tree = statement.copy()
    _name_columns_like_athena(tree)
    tree = tree.transform(_fix_java_date_functions)
    tree = tree.transform(_fix_unnest)
    tree = tree.transform(_fix_date_trunc)
    tree = tree.transform(_fix_match_functions)
    tree = tree.transform(_fix_format)
    tree = tree.transform(_fix_date_add(date_columns))
    try:
        return tree.sql(dialect="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except SqlglotError as e:
        raise QueryError(f"cannot translate to DuckDB: {str(e).splitlines()[0]}") from None
