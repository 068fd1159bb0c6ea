-- The 20 customers who bring the most revenue, with their order count, first and last order day and rank.
SELECT
    customer_id,
    count(*) AS orders,
    sum(total_amount) AS revenue,
    min(order_date) AS first_order_date,
    max(order_date) AS last_order_date,
    rank() OVER (ORDER BY sum(total_amount) DESC) AS revenue_rank
FROM orders
WHERE status NOT IN ('cancelled', 'returned')
GROUP BY customer_id
ORDER BY revenue DESC, customer_id
LIMIT 20
