"""A corpus of Athena queries run locally on DuckDB; each expected result is computed with pandas on the same
records (never with DuckDB)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from batchlake.query import DuckDBQueryEngine, run_query

CLOSED = ("cancelled", "returned")


def norm(value):
    if isinstance(value, Decimal | float):
        return round(float(value), 4)
    if hasattr(value, "item") and not isinstance(value, date | datetime):  # numpy scalars
        return norm(value.item())
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, list | tuple):
        return tuple(norm(v) for v in value)
    return value


def rows_of(df: pd.DataFrame) -> list[tuple]:
    return [tuple(norm(v) for v in r) for r in df.itertuples(index=False, name=None)]


def items(L) -> pd.DataFrame:
    """One row per order line."""
    return pd.DataFrame(
        [
            {"order_id": o["order_id"], "pos": n, **it, "unit_price": float(it["unit_price"])}
            for o in L.order_rows
            for n, it in enumerate(o["items"], start=1)
        ]
    )


def daily_revenue(L) -> pd.DataFrame:
    o = L.orders
    return o.groupby("order_date", as_index=False)["amount"].sum().sort_values("order_date")


# (id, Athena SQL, expected(L) -> list of tuples, ordered?)
CASES = [
    (
        "group_by_status",
        "SELECT status, count(*) AS n FROM orders GROUP BY status",
        lambda L: rows_of(L.orders.groupby("status").size().reset_index()),
        False,
    ),
    (
        "partition_range_filter",
        "SELECT order_date, sum(total_amount) FROM orders "
        "WHERE order_date BETWEEN DATE '2026-01-10' AND DATE '2026-01-20' GROUP BY 1 ORDER BY 1",
        lambda L: rows_of(
            daily_revenue(L)[lambda d: (d.order_date >= date(2026, 1, 10)) & (d.order_date <= date(2026, 1, 20))]
        ),
        True,
    ),
    (
        "inner_join_revenue_by_country",
        "SELECT c.country, sum(o.total_amount) AS revenue FROM orders o "
        "JOIN customers c ON o.customer_id = c.customer_id GROUP BY c.country",
        lambda L: rows_of(
            L.orders.merge(L.customers, on="customer_id").groupby("country")["amount"].sum().reset_index()
        ),
        False,
    ),
    (
        "left_join_customers_without_orders",
        "SELECT c.customer_id FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id "
        "WHERE o.order_id IS NULL ORDER BY 1",
        lambda L: [(c,) for c in sorted(set(L.customers.customer_id) - set(L.orders.customer_id))],
        True,
    ),
    (
        "anti_join_unknown_customers",
        "SELECT DISTINCT customer_id FROM orders WHERE customer_id NOT IN (SELECT customer_id FROM customers) "
        "ORDER BY 1",
        lambda L: [(c,) for c in sorted(set(L.orders.customer_id) - set(L.customers.customer_id))],
        True,
    ),
    (
        "row_number_latest_order",
        "SELECT customer_id, order_id FROM (SELECT customer_id, order_id, row_number() OVER "
        "(PARTITION BY customer_id ORDER BY created_at DESC, order_id DESC) AS rn FROM orders) WHERE rn = 1",
        lambda L: rows_of(
            L.orders.sort_values(["created_at", "order_id"]).groupby("customer_id").tail(1)[["customer_id", "order_id"]]
        ),
        False,
    ),
    (
        "lag_day_over_day",
        "SELECT order_date, revenue - lag(revenue) OVER (ORDER BY order_date) AS delta FROM "
        "(SELECT order_date, sum(total_amount) AS revenue FROM orders GROUP BY order_date) ORDER BY order_date",
        lambda L: [
            (d, None if pd.isna(x) else norm(x))
            for d, x in zip(daily_revenue(L).order_date, daily_revenue(L).amount.diff(), strict=True)
        ],
        True,
    ),
    (
        "running_total_per_customer",
        "SELECT order_id, sum(total_amount) OVER (PARTITION BY customer_id ORDER BY created_at "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM orders WHERE customer_id = 7",
        lambda L: rows_of(
            L.orders[L.orders.customer_id == 7]
            .sort_values("created_at")
            .assign(run=lambda d: d.amount.cumsum())[["order_id", "run"]]
        ),
        False,
    ),
    (
        "dense_rank_top_customers",
        "SELECT customer_id, dense_rank() OVER (ORDER BY count(*) DESC) AS r FROM orders GROUP BY customer_id",
        lambda L: rows_of(
            L.orders.groupby("customer_id")
            .size()
            .reset_index(name="n")
            .assign(r=lambda d: d.n.rank(method="dense", ascending=False).astype(int))[["customer_id", "r"]]
        ),
        False,
    ),
    (
        "date_trunc_month",
        "SELECT date_trunc('month', order_date) AS m, count(*) FROM orders GROUP BY 1 ORDER BY 1",
        lambda L: sorted(Counter(d.replace(day=1) for d in L.orders.order_date).items()),
        True,
    ),
    (
        "date_diff_days_late",
        "SELECT status, sum(date_diff('day', promised_date, CAST(delivered_at AS date))) FROM orders "
        "WHERE delivered_at IS NOT NULL GROUP BY status",
        lambda L: rows_of(
            L.orders[L.orders.delivered_at.notna()]
            .assign(late=lambda d: [(x.date() - p).days for x, p in zip(d.delivered_at, d.promised_date, strict=True)])
            .groupby("status")["late"]
            .sum()
            .reset_index()
        ),
        False,
    ),
    (
        "date_add_and_parts",
        "SELECT order_id, date_add('day', 7, order_date), year(order_date), month(order_date), "
        "day_of_week(order_date), hour(created_at) FROM orders WHERE order_id <= 5 ORDER BY order_id",
        lambda L: [
            (
                o["order_id"],
                o["order_date"] + timedelta(days=7),
                o["order_date"].year,
                o["order_date"].month,
                o["order_date"].isoweekday(),
                o["created_at"].hour,
            )
            for o in L.order_rows[:5]
        ],
        True,
    ),
    (
        "date_add_hours_to_timestamp",
        "SELECT order_id, date_add('hour', 30, created_at) FROM orders WHERE order_id <= 3 ORDER BY 1",
        lambda L: [(o["order_id"], o["created_at"] + timedelta(hours=30)) for o in L.order_rows[:3]],
        True,
    ),
    (
        "format_datetime_java_pattern",
        "SELECT order_id, format_datetime(created_at, 'yyyy-MM-dd HH:mm') FROM orders WHERE order_id <= 4 ORDER BY 1",
        lambda L: [(o["order_id"], o["created_at"].strftime("%Y-%m-%d %H:%M")) for o in L.order_rows[:4]],
        True,
    ),
    (
        "date_format_mysql_pattern",
        "SELECT date_format(created_at, '%Y-%m') AS ym, count(*) FROM orders GROUP BY 1",
        lambda L: sorted(Counter(t.strftime("%Y-%m") for t in L.orders.created_at).items()),
        False,
    ),
    (
        "iso8601_and_date_parse",
        "SELECT from_iso8601_timestamp('2026-01-02T03:04:05Z') = TIMESTAMP '2026-01-02 03:04:05', "
        "date_parse('2026-02-03 04:05', '%Y-%m-%d %H:%i'), from_iso8601_date('2026-03-04')",
        lambda L: [(True, datetime(2026, 2, 3, 4, 5), date(2026, 3, 4))],
        True,
    ),
    (
        "unnest_whole_row",
        "SELECT i.sku, sum(i.quantity) FROM orders CROSS JOIN UNNEST(items) AS t(i) GROUP BY i.sku",
        lambda L: rows_of(items(L).groupby("sku")["quantity"].sum().reset_index()),
        False,
    ),
    (
        "unnest_row_fields_as_columns",
        "SELECT sku, sum(quantity * unit_price) FROM orders "
        "CROSS JOIN UNNEST(items) AS t(sku, name, quantity, unit_price) GROUP BY sku",
        lambda L: rows_of(
            items(L).assign(v=lambda d: d.quantity * d.unit_price).groupby("sku")["v"].sum().reset_index()
        ),
        False,
    ),
    (
        "unnest_with_ordinality",
        "SELECT order_id, sku FROM orders CROSS JOIN UNNEST(items) WITH ORDINALITY AS t(sku, name, quantity, "
        "unit_price, pos) WHERE pos = 2",
        lambda L: rows_of(items(L)[lambda d: d.pos == 2][["order_id", "sku"]]),
        False,
    ),
    (
        "unnest_scalar_array_with_ordinality",
        "SELECT x, n FROM UNNEST(ARRAY['a', 'b', 'c']) WITH ORDINALITY AS t(x, n) ORDER BY n",
        lambda L: [("a", 1), ("b", 2), ("c", 3)],
        True,
    ),
    (
        "cardinality_distribution",
        "SELECT cardinality(items) AS n, count(*) FROM orders GROUP BY 1",
        lambda L: sorted(Counter(len(i) for i in L.orders["items"]).items()),
        False,
    ),
    (
        "lambda_filter_and_transform",
        "SELECT order_id, cardinality(filter(items, x -> x.quantity >= 3)), "
        "array_join(transform(items, x -> x.sku), ',') FROM orders WHERE order_id <= 20",
        lambda L: [
            (o["order_id"], sum(it["quantity"] >= 3 for it in o["items"]), ",".join(it["sku"] for it in o["items"]))
            for o in L.order_rows[:20]
        ],
        False,
    ),
    (
        "json_extract_scalar_nested",
        "SELECT json_extract_scalar(payload, '$.device.os') AS os, count(*) FROM events GROUP BY 1",
        lambda L: sorted(Counter(json.loads(p)["device"]["os"] for p in L.events.payload).items()),
        False,
    ),
    (
        "json_array_length_and_cast",
        "SELECT kind, sum(json_array_length(json_extract(payload, '$.tags'))), "
        "round(sum(CAST(json_extract_scalar(payload, '$.amount') AS double)), 2) FROM events GROUP BY kind",
        lambda L: rows_of(
            L.events.assign(
                t=lambda d: [len(json.loads(p)["tags"]) for p in d.payload],
                a=lambda d: [json.loads(p)["amount"] for p in d.payload],
            )
            .groupby("kind")
            .agg(t=("t", "sum"), a=("a", lambda s: round(s.sum(), 2)))
            .reset_index()
        ),
        False,
    ),
    (
        "regexp_like",
        "SELECT count(*) FROM customers WHERE regexp_like(email, '^user1[0-9]@')",
        lambda L: [(sum(bool(re.match(r"^user1[0-9]@", e)) for e in L.customers.email),)],
        True,
    ),
    (
        "regexp_extract_domain",
        "SELECT regexp_extract(email, '@(.+)$', 1) AS domain, count(*) FROM customers GROUP BY 1",
        lambda L: sorted(Counter(e.split("@")[1] for e in L.customers.email).items()),
        False,
    ),
    (
        "regexp_replace_and_strings",
        "SELECT customer_id, regexp_replace(full_name, '\\s+', '_'), upper(country) || '-' || lower(segment), "
        "length(email), substr(email, 1, 5), split_part(email, '@', 1) FROM customers WHERE customer_id <= 6",
        lambda L: [
            (
                c["customer_id"],
                re.sub(r"\s+", "_", c["full_name"]),
                f"{c['country'].upper()}-{c['segment']}",
                len(c["email"]),
                c["email"][:5],
                c["email"].split("@")[0],
            )
            for c in L.customer_rows[:6]
        ],
        False,
    ),
    (
        "approx_percentile_median",
        "SELECT approx_percentile(total_amount, 0.5) FROM orders",
        None,  # checked with a tolerance below
        True,
    ),
    (
        "approx_distinct",
        "SELECT approx_distinct(customer_id) FROM orders",
        None,
        True,
    ),
    (
        "if_coalesce_nullif",
        "SELECT if(total_amount > 50, 'big', 'small') AS size, count(*), "
        "count(coalesce(delivered_at, NULL)), count(nullif(channel, 'web')) FROM orders GROUP BY 1",
        lambda L: rows_of(
            L.orders.assign(size=lambda d: ["big" if a > 50 else "small" for a in d.amount])
            .groupby("size")
            .agg(n=("order_id", "size"), d=("delivered_at", "count"), c=("channel", lambda s: (s != "web").sum()))
            .reset_index()
        ),
        False,
    ),
    (
        "count_if_and_filter_clause",
        "SELECT count_if(status = 'cancelled'), count(*) FILTER (WHERE channel = 'web') FROM orders",
        lambda L: [((L.orders.status == "cancelled").sum().item(), (L.orders.channel == "web").sum().item())],
        True,
    ),
    (
        "integer_division_like_athena",
        "SELECT count(*) / 7, 7 / 2, 7.0 / 2 FROM orders",
        lambda L: [(len(L.orders) // 7, 3, 3.5)],
        True,
    ),
    (
        "array_agg_ordered_and_join",
        "SELECT customer_id, array_join(array_agg(CAST(order_id AS varchar) ORDER BY order_id), ',') "
        "FROM orders WHERE customer_id <= 3 GROUP BY customer_id",
        lambda L: rows_of(
            L.orders[L.orders.customer_id <= 3]
            .sort_values("order_id")
            .groupby("customer_id")["order_id"]
            .agg(lambda s: ",".join(map(str, s)))
            .reset_index()
        ),
        False,
    ),
    (
        "intersect_channels",
        "SELECT customer_id FROM orders WHERE channel = 'web' INTERSECT "
        "SELECT customer_id FROM orders WHERE channel = 'app'",
        lambda L: [
            (c,)
            for c in set(L.orders[L.orders.channel == "web"].customer_id)
            & set(L.orders[L.orders.channel == "app"].customer_id)
        ],
        False,
    ),
    (
        "union_all_and_round",
        "SELECT channel, round(avg(total_amount), 2) FROM orders GROUP BY channel "
        "UNION ALL SELECT 'all', round(avg(total_amount), 2) FROM orders",
        lambda L: (
            [
                *rows_of(L.orders.groupby("channel")["amount"].mean().round(2).reset_index()),
                ("all", round(L.orders.amount.mean(), 2)),
            ]
        ),
        False,
    ),
    (
        "max_by_min_by",
        "SELECT customer_id, max_by(order_id, created_at), min_by(order_id, created_at) FROM orders "
        "GROUP BY customer_id",
        lambda L: rows_of(
            L.orders.sort_values("created_at")
            .groupby("customer_id")
            .agg(last=("order_id", "last"), first=("order_id", "first"))
            .reset_index()
        ),
        False,
    ),
    (
        "with_cte_and_having",
        "WITH spend AS (SELECT customer_id, sum(total_amount) AS s FROM orders GROUP BY customer_id) "
        "SELECT customer_id FROM spend WHERE s > (SELECT avg(s) FROM spend)",
        lambda L: [
            (c,)
            for c, s in L.orders.groupby("customer_id")["amount"].sum().items()
            if s > L.orders.groupby("customer_id")["amount"].sum().mean()
        ],
        False,
    ),
    (
        "partition_column_of_customers",
        "SELECT signup_year, count(*) FROM batchlake.customers GROUP BY signup_year",
        lambda L: rows_of(L.customers.groupby("signup_year").size().reset_index()),
        False,
    ),
    (
        "struct_field_in_where_and_contains",
        "SELECT count(*) FROM orders WHERE contains(transform(items, x -> x.sku), 'SKU-3')",
        lambda L: [(sum(any(it["sku"] == "SKU-3" for it in o["items"]) for o in L.order_rows),)],
        True,
    ),
    (
        "date_minus_interval_stays_a_date",
        "SELECT order_id, order_date - INTERVAL '7' DAY, order_date + INTERVAL '1' MONTH FROM orders "
        "WHERE order_id <= 3",
        lambda L: [
            (o["order_id"], o["order_date"] - timedelta(days=7), _add_month(o["order_date"])) for o in L.order_rows[:3]
        ],
        False,
    ),
    (
        "any_all_none_match",
        "SELECT order_id, any_match(items, x -> x.quantity >= 4), all_match(items, x -> x.quantity >= 2), "
        "none_match(items, x -> x.sku = 'SKU-1') FROM orders WHERE order_id <= 30",
        lambda L: [
            (
                o["order_id"],
                any(i["quantity"] >= 4 for i in o["items"]),
                all(i["quantity"] >= 2 for i in o["items"]),
                not any(i["sku"] == "SKU-1" for i in o["items"]),
            )
            for o in L.order_rows[:30]
        ],
        False,
    ),
    (
        "map_agg_and_element_at",
        "SELECT element_at(m, 'web'), element_at(m, 'app') FROM "
        "(SELECT map_agg(channel, n) AS m FROM (SELECT channel, count(*) AS n FROM orders GROUP BY channel))",
        lambda L: [(int((L.orders.channel == "web").sum()), int((L.orders.channel == "app").sum()))],
        True,
    ),
    (
        "json_size_and_array_contains",
        "SELECT event_id, json_size(payload, '$.tags'), json_array_contains(json_extract(payload, '$.tags'), 't2') "
        "FROM events WHERE event_id <= 8",
        lambda L: [
            (e["event_id"], len(json.loads(e["payload"])["tags"]), "t2" in json.loads(e["payload"])["tags"])
            for e in L.event_rows[:8]
        ],
        False,
    ),
    (
        "url_functions_and_printf_format",
        "SELECT url_extract_host(u), url_extract_path(u), url_extract_parameter(u, 'q'), format('%s=%d', 'n', 7) "
        "FROM (VALUES 'https://shop.example.com/p/42?q=mug%20blue&x=1') AS t(u)",
        lambda L: [("shop.example.com", "/p/42", "mug blue", "n=7")],
        True,
    ),
    (
        "every_and_bool_or",
        "SELECT segment, every(marketing_opt_in), bool_or(marketing_opt_in) FROM customers GROUP BY segment",
        lambda L: rows_of(
            L.customers.groupby("segment")
            .agg(a=("marketing_opt_in", "all"), b=("marketing_opt_in", "any"))
            .reset_index()
        ),
        False,
    ),
]


def _add_month(d: date) -> date:
    import calendar

    year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return d.replace(year=year, month=month, day=min(d.day, calendar.monthrange(year, month)[1]))


@pytest.fixture(scope="module")
def engine(query_lake):
    eng = DuckDBQueryEngine(query_lake.lake, query_lake.catalog)
    run_query(
        f"CREATE EXTERNAL TABLE events (event_id bigint, kind string, payload string) "
        f"STORED AS PARQUET LOCATION '{query_lake.events_dir}'",
        engine=eng,
    )
    yield eng
    eng.close()


@pytest.mark.parametrize(("name", "sql", "expected", "ordered"), CASES, ids=[c[0] for c in CASES])
def test_corpus_query(engine, query_lake, name, sql, expected, ordered):
    result = run_query(sql, engine=engine)
    got = [tuple(norm(v) for v in row) for row in result.rows]
    if name == "approx_percentile_median":
        amounts = query_lake.orders.amount
        assert amounts.quantile(0.45) <= got[0][0] <= amounts.quantile(0.55)
        return
    if name == "approx_distinct":
        assert abs(got[0][0] - query_lake.orders.customer_id.nunique()) <= 2
        return
    want = [tuple(norm(v) for v in row) for row in expected(query_lake)]
    if not ordered:
        got, want = sorted(got, key=repr), sorted(want, key=repr)
    assert got == want


def test_corpus_is_large_enough():
    assert len(CASES) >= 30
