-- A view with one row per order line, for analysts who work on products rather than orders.
CREATE OR REPLACE VIEW order_lines AS
SELECT
    o.order_id,
    o.customer_id,
    o.order_date,
    o.status,
    o.currency,
    t.sku,
    t.name,
    t.quantity,
    t.unit_price,
    t.quantity * t.unit_price AS line_amount,
    t.line_number
FROM orders AS o
CROSS JOIN UNNEST(o.items) WITH ORDINALITY AS t (sku, name, quantity, unit_price, line_number)
