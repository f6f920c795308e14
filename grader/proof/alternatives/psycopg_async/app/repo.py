"""The shop's data: every function borrows a connection from the pool for exactly its own statements."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from psycopg.types.json import Jsonb

from app.models import LineOut, OrderIn, OrderOut, PageOut, ProductOut
from app.payments import PaymentsApi
from app.pool import Conn, Pool

PRODUCT = "SELECT id, sku, name, category, price_cents, stock FROM products"
# Orders with their items aggregated in the same statement: no query per order.
ORDERS = """
SELECT o.id, c.email AS customer_email, o.status, o.currency, o.total_cents, o.payment_id, o.created_at,
       coalesce(json_agg(json_build_object('product_id', i.product_id, 'quantity', i.quantity,
                                           'unit_price_cents', i.unit_price_cents) ORDER BY i.id)
                FILTER (WHERE i.id IS NOT NULL), '[]') AS items
FROM orders o
JOIN customers c ON c.id = o.customer_id
LEFT JOIN order_items i ON i.order_id = o.id
"""


async def product(pool: Pool, product_id: int) -> ProductOut:
    async with pool.connection() as conn:
        row = await (await conn.execute(PRODUCT + " WHERE id = %s", (product_id,))).fetchone()
    if row is None:
        raise HTTPException(404, "product not found")
    return ProductOut(**row)


async def products(pool: Pool, category: str | None, limit: int, offset: int) -> PageOut:
    params: dict[str, Any] = {"category": category, "limit": limit, "offset": offset}
    where = " WHERE category = %(category)s" if category is not None else ""
    async with pool.connection() as conn:
        cur = await conn.execute(PRODUCT + where + " ORDER BY id LIMIT %(limit)s OFFSET %(offset)s", params)
        rows = await cur.fetchall()
    return PageOut(items=[ProductOut(**row) for row in rows], limit=limit, offset=offset)


async def order(pool: Pool, order_id: int) -> OrderOut:
    async with pool.connection() as conn:
        cur = await conn.execute(ORDERS + " WHERE o.id = %s GROUP BY o.id, c.email", (order_id,))
        row = await cur.fetchone()
    if row is None:
        raise HTTPException(404, "order not found")
    return OrderOut(**row)


async def history(pool: Pool, email: str) -> list[OrderOut]:
    async with pool.connection() as conn:
        customer = await (await conn.execute("SELECT id FROM customers WHERE email = %s", (email,))).fetchone()
        if customer is None:
            raise HTTPException(404, "customer not found")
        cur = await conn.execute(
            ORDERS + " WHERE o.customer_id = %s GROUP BY o.id, c.email ORDER BY o.created_at DESC, o.id DESC",
            (customer["id"],),
        )
        rows = await cur.fetchall()
    return [OrderOut(**row) for row in rows]


async def _reserve(conn: Conn, product_id: int, quantity: int) -> int:
    cur = await conn.execute(
        "UPDATE products SET stock = stock - %(q)s WHERE id = %(id)s AND stock >= %(q)s RETURNING price_cents",
        {"id": product_id, "q": quantity},
    )
    row = await cur.fetchone()
    if row is not None:
        return int(row["price_cents"])
    exists = await (await conn.execute("SELECT 1 FROM products WHERE id = %s", (product_id,))).fetchone()
    raise HTTPException(409 if exists else 404, f"product {product_id}: {'out of stock' if exists else 'unknown'}")


async def create(pool: Pool, payments: PaymentsApi, new: OrderIn, key_name: str) -> OrderOut:
    """All of the order in one transaction; leaving the block by an exception rolls it back, and once the
    charge was sent, the charge is cancelled too (the provider may have made it without our knowing)."""
    email = str(new.customer_email)
    key, sent = payments.new_key(), False
    try:
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO customers (email) VALUES (%s) ON CONFLICT (email) DO NOTHING", (email,)
            )
            customer = await (await conn.execute("SELECT id FROM customers WHERE email = %s", (email,))).fetchone()
            assert customer is not None
            lines = [
                LineOut(product_id=line.product_id, quantity=line.quantity,
                        unit_price_cents=await _reserve(conn, line.product_id, line.quantity))
                for line in sorted(new.items, key=lambda line: line.product_id)  # one lock order for everyone
            ]  # fmt: skip
            total = sum(line.quantity * line.unit_price_cents for line in lines)
            cur = await conn.execute(
                "INSERT INTO orders (customer_id, status, currency, total_cents) VALUES (%s, 'paid', 'USD', %s)"
                " RETURNING id, created_at",
                (customer["id"], total),
            )
            created = await cur.fetchone()
            assert created is not None
            async with conn.cursor() as many:
                await many.executemany(
                    "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)"
                    " VALUES (%s, %s, %s, %s)",
                    [(created["id"], line.product_id, line.quantity, line.unit_price_cents) for line in lines],
                )
            sent = True
            payment_id = await payments.charge(total, email, key)
            await conn.execute("UPDATE orders SET payment_id = %s WHERE id = %s", (payment_id, created["id"]))
            await conn.execute(
                "INSERT INTO audit_log (order_id, action, detail) VALUES (%s, 'order.created', %s)",
                (created["id"], Jsonb({"api_key": key_name, "total_cents": total, "payment_id": payment_id})),
            )
    except BaseException:
        if sent:
            payments.cancel_later(key)
        raise
    return OrderOut(
        id=created["id"], customer_email=email, status="paid", currency="USD", total_cents=total,
        payment_id=payment_id, created_at=created["created_at"], items=lines,
    )
