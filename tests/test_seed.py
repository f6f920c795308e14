"""The kit's schema and seed: fast, deterministic, and matching what the grader assumes."""

from __future__ import annotations

import ast
import contextlib
import hashlib
from pathlib import Path

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


def test_the_seed_ids_and_stock_rule_are_what_kitdata_says(infra: Infrastructure) -> None:
    """Product and order ids span kitdata's ranges, the next order gets FIRST_NEW_ORDER_ID, low stock is `in_stock`."""
    db = infra.pg.create_database()
    try:
        ids = _rows(infra, db, "SELECT min(id), max(id) FROM products UNION ALL SELECT min(id), max(id) FROM orders")
        assert ids == [
            (kitdata.PRODUCT_IDS[0], kitdata.PRODUCT_IDS[-1]),
            (kitdata.ORDER_IDS[0], kitdata.ORDER_IDS[-1]),
        ]
        assert _rows(infra, db, "SELECT nextval(pg_get_serial_sequence('orders', 'id'))") == [
            (kitdata.FIRST_NEW_ORDER_ID,)
        ]
        stocked = _rows(infra, db, "SELECT id FROM products WHERE stock >= 100 ORDER BY id")
        assert [row[0] for row in stocked] == [i for i in kitdata.PRODUCT_IDS if kitdata.in_stock(i)]
    finally:
        infra.pg.drop_database(db)


def test_the_kits_locustfile_states_the_same_seed_facts() -> None:
    """kit/load/locustfile.py (shipped alone, so it cannot import kitdata) repeats kitdata's values exactly."""
    source = (Path(__file__).resolve().parents[1] / "kit" / "load" / "locustfile.py").read_text()
    assigned = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id.isupper()
    }
    assert (assigned["PRODUCTS"], assigned["API_KEY"], assigned["CATEGORIES"]) == (
        kitdata.PRODUCTS,
        kitdata.API_KEY,
        kitdata.CATEGORIES,
    )
    assert f"% {kitdata.LOW_STOCK_EVERY} == 0" in source
