-- Deterministic seed: the same rows on every run, generated inside PostgreSQL in well under a second.
-- Pseudo-random columns come from multiplicative hashing of the row number, never from random().
INSERT INTO products (id, sku, name, category, price_cents, stock)
SELECT i,
       format('SKU-%s', lpad(i::text, 6, '0')),
       format('%s %s #%s', (ARRAY['Sturdy', 'Compact', 'Deluxe', 'Classic', 'Eco', 'Smart'])[1 + (i * 7) % 6],
              initcap(c.category), i),
       c.category,
       199 + (i * 2654435761) % 49800,
       CASE WHEN i % 97 = 0 THEN i % 4 ELSE 500 + (i * 40503) % 1500 END
FROM generate_series(1, 10000) AS i
CROSS JOIN LATERAL (
    SELECT (ARRAY['books', 'garden', 'kitchen', 'toys', 'electronics', 'sports', 'music', 'office'])[1 + i % 8]
) AS c(category);

INSERT INTO customers (id, email, name)
SELECT i, format('customer%s@example.com', i), format('Customer %s', i)
FROM generate_series(1, 2000) AS i;
SELECT setval(pg_get_serial_sequence('customers', 'id'), 2000);

INSERT INTO orders (id, customer_id, status, currency, total_cents, payment_id, created_at)
SELECT o, 1 + (o * 7919) % 2000, 'paid', 'USD', 0, format('ch_seed_%s', o),
       timestamptz '2026-01-01 00:00:00+00' + make_interval(mins => o * 13)
FROM generate_series(1, 20000) AS o;
SELECT setval(pg_get_serial_sequence('orders', 'id'), 20000);

INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
SELECT o, p.id, 1 + (o * 31 + n) % 3, p.price_cents
FROM generate_series(1, 20000) AS o
CROSS JOIN LATERAL generate_series(1, 1 + o % 4) AS n
JOIN products AS p ON p.id = 1 + ((o * 104729 + n * 7907) % 10000);

UPDATE orders SET total_cents = t.total
FROM (SELECT order_id, sum(quantity * unit_price_cents) AS total FROM order_items GROUP BY order_id) AS t
WHERE orders.id = t.order_id;

INSERT INTO audit_log (order_id, action, detail)
SELECT id, 'order.created', jsonb_build_object('seed', true) FROM orders;

-- PBKDF2-HMAC-SHA256, 300,000 iterations (about 70 ms of CPU each); the plaintext keys are in db/README.md.
INSERT INTO api_keys (prefix, name, salt, hash, iterations, revoked_at) VALUES
    ('shop_ops', 'ops-dashboard', '\x2b02707198fac7cca214b1f32fea36cb',
     '\xa0e8360532d54f3be35b00f4c81287ab8c6db1774cb317666abff31153200a60', 300000, NULL),
    ('shop_web', 'storefront', '\x3368ddbff8000fb86851b75b80fbed77',
     '\x05d4cec3aeb6666a990375b906c1d568e8f3db57638120ebc7c5ee498fbb29ef', 300000, NULL),
    ('shop_old', 'retired-integration', '\x927483893afaf155b688910d53ee6cef',
     '\x88e2f4146862cba24d34f8113abffae0efe76b85407d3faf810ac1a730055760', 300000, now());

ANALYZE;
