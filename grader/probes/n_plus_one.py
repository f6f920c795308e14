"""n-plus-one: statements per GET /customers/{email}/orders must not grow with the number of orders.

Each measured customer is one the app has never served (a response cache would otherwise answer the
measured request from memory); customers of the same sizes are asked for first, so that prepared
statements and type introspection are warm before anything is counted.
"""

from __future__ import annotations

import httpx

from grader import kitdata
from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._together import LOOP_LAG
from grader.runner.deploy import Deployment

BUG = "n-plus-one"
METRIC = "statements_per_extra_order"
SMALL, LARGE = 2, 22


def _customer_with_orders(deployment: Deployment, email: str, orders: int) -> None:
    with deployment.sql() as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO customers (email, name) VALUES (%s, 'probe') RETURNING id", (email,))
        (customer,) = cur.fetchone()  # type: ignore[misc]
        for n in range(orders):
            cur.execute(
                "INSERT INTO orders (customer_id, status, total_cents, payment_id) "
                "VALUES (%s, 'paid', 0, %s) RETURNING id",
                (customer, f"ch_probe_{n}"),
            )
            (order,) = cur.fetchone()  # type: ignore[misc]
            cur.execute(
                "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) "
                "SELECT %s, id, 1, price_cents FROM products WHERE id IN (%s, %s)",
                (order, 1 + n, 101 + n),
            )


def _statements(deployment: Deployment, client: httpx.Client, email: str) -> tuple[int, int]:
    deployment.proxy.reset()
    response = client.get(f"/customers/{email}/orders")
    return response.status_code, int(deployment.proxy.stats()["statements"])


def probe(target: ProbeTarget) -> ProbeResult:
    return LOOP_LAG.get(target, BUG)[BUG]


def measure(deployment: Deployment) -> ProbeResult:
    """Statements per extra order (grader/probes/_together.py: the first on its deployment)."""
    for kind, orders in (("few", SMALL), ("many", LARGE)):
        _customer_with_orders(deployment, f"warm-{kind}-orders@example.org", orders)
        _customer_with_orders(deployment, f"{kind}-orders@example.org", orders)
    with httpx.Client(base_url=deployment.url, timeout=kitdata.HTTP_TIMEOUT_S) as client:
        for kind in ("few", "many"):  # the same statements, on other customers
            client.get(f"/customers/warm-{kind}-orders@example.org/orders")
        small_status, small = _statements(deployment, client, "few-orders@example.org")
        large_status, large = _statements(deployment, client, "many-orders@example.org")
    evidence = {
        f"statements_for_{SMALL}_orders": small,
        f"statements_for_{LARGE}_orders": large,
        "statuses": [small_status, large_status],
    }
    if (small_status, large_status) != (200, 200):
        return inconclusive(BUG, f"GET /customers/{{email}}/orders answered {small_status}/{large_status}", evidence)
    return judge(BUG, (large - small) / (LARGE - SMALL), evidence, what="extra statements per extra order")
