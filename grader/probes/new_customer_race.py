"""new-customer-race: a new customer's first orders, several at once.

Looking the customer up and inserting it when missing, in two steps, lets two concurrent first orders both
miss and both insert: the second breaks the unique e-mail (a 500) or, on a sync driver, the whole service
waits behind the first one's uncommitted row. Every order must be placed, and the customer exist once.
"""

from __future__ import annotations

from typing import Any

from grader.probes._base import ProbeResult, ProbeTarget, judge
from grader.probes._contention import bursts, order, stop_if_stuck

BUG = "new-customer-race"
METRIC = "failed_orders"
CUSTOMERS = 3
ORDERS_EACH = 4


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        wanted = CUSTOMERS * ORDERS_EACH + 1
        ids = [
            int(r[0])
            for r in deployment.query("SELECT id FROM products WHERE stock >= 500 ORDER BY id LIMIT %s", wanted)
        ]
        emails = [f"first-time-{n}@example.org" for n in range(CUSTOMERS)]
        bodies = [order(emails[n % CUSTOMERS], [(ids[n + 1], 1)]) for n in range(CUSTOMERS * ORDERS_EACH)]
        [burst] = bursts(deployment, [bodies], order("first-time-warm@example.org", [(ids[0], 1)]))
        stop_if_stuck(deployment, [burst])
        rows = dict(
            deployment.query("SELECT email, count(*) FROM customers WHERE email = ANY(%s) GROUP BY email", emails)
        )
    failed = len(bodies) - burst.count(201)
    duplicated = sum(int(count) - 1 for count in rows.values())
    evidence: dict[str, Any] = {
        "customers": CUSTOMERS,
        "orders_each": ORDERS_EACH,
        "statuses": burst.counts,
        "slowest_answer_s": burst.slowest_s,
        "customer_rows": {email: int(rows.get(email, 0)) for email in emails},
    }
    problems = [f"{duplicated} duplicate customer rows"] if duplicated else []
    what = f"first orders not placed of {len(bodies)} ({CUSTOMERS} new customers, {ORDERS_EACH} orders each at once)"
    return judge(BUG, failed, evidence, what=what, problems=problems)
