"""The kit's schema and seed: fast, deterministic, and matching what the grader assumes."""

from __future__ import annotations

import contextlib
import hashlib

from grader import kitdata
from grader.infra.stack import Infrastructure


def _rows(infra: Infrastructure, dbname: str, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(infra.pg.connect(dbname)) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def test_seed_has_the_promised_volume(infra: Infrastructure) -> None:
    """10,000 products in 8 categories, 2,000 customers, 20,000 orders with items, an audit row each."""
    db = infra.pg.create_database()
    try:
        counts = _rows(
            infra,
            db,
            "SELECT (SELECT count(*) FROM products), (SELECT count(DISTINCT category) FROM products),"
            " (SELECT count(*) FROM customers), (SELECT count(*) FROM orders),"
            " (SELECT count(*) FROM order_items), (SELECT count(*) FROM audit_log),"
            " (SELECT count(*) FROM orders o WHERE NOT EXISTS"
            "   (SELECT 1 FROM order_items i WHERE i.order_id = o.id))",
        )[0]
        assert counts[:4] == (
            kitdata.PRODUCTS,
            len(kitdata.CATEGORIES),
            kitdata.SEEDED_CUSTOMERS,
            kitdata.SEEDED_ORDERS,
        )
        assert counts[4] >= 40_000
        assert counts[5] == kitdata.SEEDED_ORDERS
        assert counts[6] == 0
        totals = _rows(
            infra,
            db,
            "SELECT count(*) FROM orders o WHERE total_cents <>"
            " (SELECT sum(quantity * unit_price_cents) FROM order_items WHERE order_id = o.id)",
        )
        assert totals == [(0,)]
    finally:
        infra.pg.drop_database(db)


def test_seed_is_deterministic(infra: Infrastructure) -> None:
    """Two databases seeded separately hold identical rows."""
    digest = (
        "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM "
        "(SELECT id, sku, price_cents, stock FROM products"
        " UNION ALL SELECT id, customer_id::text, total_cents, 0 FROM orders) t"
    )
    first = _rows(infra, infra.pg.seeded_template(), digest)
    fresh = infra.pg.create_database()
    try:
        assert _rows(infra, fresh, digest) == first
    finally:
        infra.pg.drop_database(fresh)


def test_api_keys_verify_against_their_stored_pbkdf2_hashes(infra: Infrastructure) -> None:
    """The documented keys hash to the stored values, with enough iterations to cost real CPU."""
    rows = {
        r[0]: r[1:]
        for r in _rows(
            infra,
            infra.pg.seeded_template(),
            "SELECT prefix, salt, hash, iterations, revoked_at IS NOT NULL FROM api_keys",
        )
    }
    for key, revoked in ((kitdata.API_KEY, False), (kitdata.OPS_API_KEY, False), (kitdata.REVOKED_API_KEY, True)):
        salt, stored, iterations, is_revoked = rows[key.split(".")[0]]
        assert iterations >= 200_000
        assert hashlib.pbkdf2_hmac("sha256", key.encode(), bytes(salt), iterations) == bytes(stored)
        assert is_revoked == revoked
