-- Customers per country and segment, with the marketing opt-in rate and the signup span.
SELECT
    country,
    segment,
    count(*) AS customers,
    count_if(marketing_opt_in) AS opted_in,
    round(100.0 * count_if(marketing_opt_in) / count(*), 1) AS opt_in_pct,
    min(signup_date) AS first_signup_date,
    max(signup_date) AS last_signup_date
FROM customers
GROUP BY country, segment
ORDER BY customers DESC, country, segment
