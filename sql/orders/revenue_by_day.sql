-- Revenue per order day: orders, buyers, revenue, average basket value and the running total.
-- Cancelled and returned orders bring no revenue. Partition column order_date keeps scans small when filtered.
SELECT
    order_date,
    count(*) AS orders,
    count(DISTINCT customer_id) AS customers,
    sum(total_amount) AS revenue,
    round(avg(total_amount), 2) AS avg_order_value,
    sum(sum(total_amount)) OVER (ORDER BY order_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        AS cumulative_revenue
FROM orders
WHERE status NOT IN ('cancelled', 'returned')
GROUP BY order_date
ORDER BY order_date
