"""After a load run: did the service keep its books? The database and the provider, read back.

Fast under load is worth nothing if it sells stock it does not have or charges without an order. After
each scenario (the app stopped, so nothing moves) the grader checks: no stock below zero; every product's
stock went down by exactly what the orders placed during the run hold; every paid order's payment is a
charge at the provider, not refunded; every charge the provider still holds belongs to an order. A breach
marks the run beside its latency; it never makes a fast run look slow, nor a slow one fast.
"""

from __future__ import annotations

from typing import Any

from grader.infra.payments_stub import live_charge_ids
from grader.runner.deploy import Deployment

MAX_NAMED = 5  # examples per breach in the report


def snapshot(deployment: Deployment) -> dict[str, Any]:
    """What the run starts from: every product's stock and the last order id."""
    stock = {int(r[0]): int(r[1]) for r in deployment.query("SELECT id, stock FROM products")}
    last = int(deployment.scalar("SELECT coalesce(max(id), 0) FROM orders"))
    return {"stock": stock, "last_order": last}


def check(deployment: Deployment, before: dict[str, Any]) -> dict[str, Any]:
    """The breaches found (one line each) and what was checked."""
    last = before["last_order"]
    negative = int(deployment.scalar("SELECT count(*) FROM products WHERE stock < 0"))
    sold = {
        int(r[0]): int(r[1])
        for r in deployment.query(
            "SELECT oi.product_id, sum(oi.quantity) FROM order_items oi JOIN orders o ON o.id = oi.order_id "
            "WHERE o.id > %s GROUP BY oi.product_id",
            last,
        )
    }
    now = {int(r[0]): int(r[1]) for r in deployment.query("SELECT id, stock FROM products")}
    unmatched = sorted(p for p, stock in now.items() if before["stock"].get(p, stock) - stock != sold.get(p, 0))
    orders = deployment.query("SELECT id, status, payment_id FROM orders WHERE id > %s", last)
    charged = live_charge_ids(deployment.stub.stats())
    paid_without_charge = sorted(int(o[0]) for o in orders if o[1] == "paid" and str(o[2]) not in charged)
    recorded = {str(o[2]) for o in orders if o[2] is not None}
    orphans = sorted(charged - recorded)
    breaches = []
    if negative:
        breaches.append(f"{negative} products with negative stock")
    if unmatched:
        breaches.append(
            f"{len(unmatched)} products whose stock change the orders do not explain (e.g. {unmatched[:MAX_NAMED]})"
        )
    if paid_without_charge:
        ids = paid_without_charge[:MAX_NAMED]
        breaches.append(f"{len(paid_without_charge)} paid orders with no charge at the provider (e.g. {ids})")
    if orphans:
        breaches.append(f"{len(orphans)} charges at the provider with no order (e.g. {orphans[:MAX_NAMED]})")
    return {
        "breaches": breaches,
        "orders": len(orders),
        "charges": len(charged),
        "products_sold": len(sold),
    }
