-- Monthly signup cohorts: how many customers of each cohort order again 0, 1, 2... months after signing up.
-- Joins customers (cohort = signup month) with orders (activity = order month, cancelled orders excluded).
WITH cohorts AS (
    SELECT customer_id, date_trunc('month', signup_date) AS cohort_month
    FROM customers
),
cohort_sizes AS (
    SELECT cohort_month, count(*) AS cohort_size
    FROM cohorts
    GROUP BY cohort_month
),
activity AS (
    SELECT DISTINCT customer_id, date_trunc('month', order_date) AS order_month
    FROM orders
    WHERE status <> 'cancelled'
)
SELECT
    c.cohort_month,
    s.cohort_size,
    date_diff('month', c.cohort_month, a.order_month) AS months_since_signup,
    count(DISTINCT a.customer_id) AS active_customers,
    round(100.0 * count(DISTINCT a.customer_id) / s.cohort_size, 1) AS retention_pct
FROM cohorts AS c
JOIN activity AS a ON a.customer_id = c.customer_id
JOIN cohort_sizes AS s ON s.cohort_month = c.cohort_month
WHERE a.order_month >= c.cohort_month
GROUP BY c.cohort_month, s.cohort_size, date_diff('month', c.cohort_month, a.order_month)
ORDER BY c.cohort_month, months_since_signup
