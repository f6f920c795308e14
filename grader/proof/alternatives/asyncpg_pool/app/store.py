"""SQL on the asyncpg pool. A connection is held only inside `async with pool.acquire()`."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
from fastapi import HTTPException

from app.payments import Gateway
from app.schemas import Item, NewOrder, Order

PRODUCT_COLUMNS = "id, sku, name, category, price_cents, stock"
ORDER_COLUMNS = "o.id, o.status, o.currency, o.total_cents, o.payment_id, o.created_at"


async def items_of(conn: asyncpg.Connection, order_ids: list[int]) -> dict[int, list[Item]]:
    """Every order's items in one statement, whatever the number of orders."""
    grouped: dict[int, list[Item]] = {order_id: [] for order_id in order_ids}
    rows = await conn.fetch(
        "SELECT order_id, product_id, quantity, unit_price_cents FROM order_items"
        " WHERE order_id = ANY($1::bigint[]) ORDER BY id",
        order_ids,
    )
    for row in rows:
        grouped[row["order_id"]].append(Item(**{k: row[k] for k in ("product_id", "quantity", "unit_price_cents")}))
    return grouped


async def order(pool: asyncpg.Pool, order_id: int) -> Order:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            f"SELECT {ORDER_COLUMNS}, c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1",
            order_id,
        )
        if row is None:
            raise HTTPException(404, "Order not found")
        items = await items_of(conn, [order_id])
    return Order.from_row(row, row["email"], items[order_id])


async def customer_orders(pool: asyncpg.Pool, email: str) -> list[Order]:
    async with pool.acquire() as conn:
        customer = await conn.fetchval("SELECT id FROM customers WHERE email = $1", email)
        if customer is None:
            raise HTTPException(404, "Customer not found")
        rows = await conn.fetch(
            f"SELECT {ORDER_COLUMNS} FROM orders o WHERE o.customer_id = $1 ORDER BY o.created_at DESC, o.id DESC",
            customer,
        )
        items = await items_of(conn, [row["id"] for row in rows])
    return [Order.from_row(row, email, items[row["id"]]) for row in rows]


async def _customer(conn: asyncpg.Connection, email: str) -> int:
    found: Any = await conn.fetchval("SELECT id FROM customers WHERE email = $1", email)
    if found is None:
        found = await conn.fetchval(
            "INSERT INTO customers (email) VALUES ($1) ON CONFLICT (email) DO NOTHING RETURNING id", email
        )
    if found is None:  # created meanwhile by a concurrent order
        found = await conn.fetchval("SELECT id FROM customers WHERE email = $1", email)
    return int(found)


async def _take(conn: asyncpg.Connection, product_id: int, quantity: int) -> int:
    """Take `quantity` off the product's stock; its unit price. 409 short of stock, 404 unknown."""
    price = await conn.fetchval(
        "UPDATE products SET stock = stock - $2 WHERE id = $1 AND stock >= $2 RETURNING price_cents",
        product_id,
        quantity,
    )
    if price is None:
        if await conn.fetchval("SELECT 1 FROM products WHERE id = $1", product_id):
            raise HTTPException(409, f"Not enough stock for product {product_id}")
        raise HTTPException(404, f"Product {product_id} not found")
    return int(price)


async def place(pool: asyncpg.Pool, gateway: Gateway, new: NewOrder, key_name: str) -> Order:
    """Stock, order, items, charge and audit row in one transaction: any exception undoes all of it.

    The provider may charge even when its answer never arrives, so an order that fails once its charge
    was sent (a timeout, a lost answer, the commit) voids that charge.
    """
    lines = sorted(new.items, key=lambda line: line.product_id)  # a fixed lock order: no deadlocks
    email = str(new.customer_email)
    key = uuid.uuid4().hex
    sent = False
    try:
        async with pool.acquire() as conn, conn.transaction():
            customer = await _customer(conn, email)
            items = []
            for line in lines:
                price = await _take(conn, line.product_id, line.quantity)
                items.append(Item(product_id=line.product_id, quantity=line.quantity, unit_price_cents=price))
            total = sum(item.quantity * item.unit_price_cents for item in items)
            row = await conn.fetchrow(
                "INSERT INTO orders (customer_id, status, currency, total_cents) VALUES ($1, 'paid', 'USD', $2)"
                " RETURNING id, status, currency, total_cents, payment_id, created_at",
                customer,
                total,
            )
            await conn.executemany(
                "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES ($1, $2, $3, $4)",
                [(row["id"], i.product_id, i.quantity, i.unit_price_cents) for i in items],
            )
            sent = True
            payment_id = await gateway.charge(total, email, key)
            await conn.execute("UPDATE orders SET payment_id = $2 WHERE id = $1", row["id"], payment_id)
            await conn.execute(
                "INSERT INTO audit_log (order_id, action, detail) VALUES ($1, 'order.created', $2::jsonb)",
                row["id"],
                json.dumps({"api_key": key_name, "total_cents": total, "payment_id": payment_id}),
            )
    except BaseException:
        if sent:
            gateway.void_later(key)
        raise
    return Order.from_row({**dict(row), "payment_id": payment_id}, email, items)
