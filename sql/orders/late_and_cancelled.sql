-- Service quality per order day: cancellations, late deliveries (delivered after the promised date)
-- and open orders already past their promised date.
SELECT
    order_date,
    count(*) AS orders,
    count_if(status = 'cancelled') AS cancelled,
    round(100.0 * count_if(status = 'cancelled') / count(*), 2) AS cancelled_pct,
    count_if(delivered_at IS NOT NULL) AS delivered,
    count_if(delivered_at IS NOT NULL AND CAST(delivered_at AS date) > promised_date) AS delivered_late,
    count_if(
        delivered_at IS NULL AND status NOT IN ('cancelled', 'returned') AND promised_date < current_date
    ) AS overdue_open,
    round(avg(date_diff('day', promised_date, CAST(delivered_at AS date))), 2) AS avg_days_vs_promise
FROM orders
GROUP BY order_date
ORDER BY order_date
