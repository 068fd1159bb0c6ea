-- Basket size per month: units and distinct lines per order, as percentiles (line items unnested).
WITH baskets AS (
    SELECT
        o.order_id,
        o.order_date,
        sum(quantity) AS units,
        count(DISTINCT sku) AS lines
    FROM orders AS o
    CROSS JOIN UNNEST(o.items) AS t (sku, name, quantity, unit_price)
    GROUP BY o.order_id, o.order_date
)
SELECT
    date_trunc('month', order_date) AS order_month,
    count(*) AS orders,
    approx_percentile(units, 0.5) AS p50_units,
    approx_percentile(units, 0.9) AS p90_units,
    approx_percentile(units, 0.99) AS p99_units,
    max(units) AS max_units,
    round(avg(lines), 2) AS avg_lines
FROM baskets
GROUP BY date_trunc('month', order_date)
ORDER BY order_month
