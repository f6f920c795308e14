"""missing-await: each order's audit row is written in the order's own transaction.

A coroutine nobody awaits never writes its row. Written in the order's transaction, the row is there the
moment the order is answered, and an order that fails leaves none. So, with every database round trip
slowed (a write started after the answer, by a task or a background job, cannot land before the grader
looks), each order answered 201 is looked up in audit_log at once; then orders whose payment is declined
or whose payments API is down (a failure after the stock and the order rows, where a design that writes
the audit row before the charge, in a transaction of its own, would leave one behind) must leave no audit
row. Last, PostgreSQL's own record: an order's row and its audit row must carry the same xmin (the id of
the transaction that wrote them).
"""

from __future__ import annotations

import asyncio

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import OrderMaker, app_client
from grader.probes._work import Placed, charge_findings, place_one
from grader.runner.deploy import Deployment

BUG = "missing-await"
METRIC = "audit_rows_per_order"
BAND = None  # audit rows counted per order: exact; the threshold lies midway between none and one
ORDERS = 4
FAILING = 2  # orders per failure kind
DB_LATENCY_MS = 40  # per round trip: a write started after the answer needs several
SEPARATE_TRANSACTIONS = (
    "SELECT count(*) FROM orders o JOIN audit_log a ON a.order_id = o.id"
    " WHERE o.id = ANY(%s) AND o.xmin::text <> a.xmin::text"
)


def _visible_at_answer(deployment: Deployment, maker: OrderMaker) -> tuple[Placed, list[int]]:
    """Orders placed one at a time; after each 201, its audit rows counted before anything else happens."""
    placed, rows = Placed(), []
    with deployment.sql() as conn, conn.cursor() as cur:

        async def place_all() -> None:
            async with app_client(deployment.url) as client:
                for _ in range(ORDERS):
                    before = len(placed.created)
                    await place_one(client, maker.body(), placed)
                    if len(placed.created) > before:
                        order_id = placed.created[-1].get("id")
                        cur.execute("SELECT count(*) FROM audit_log WHERE order_id = %s", (order_id,))
                        rows.append(int(cur.fetchone()[0]))  # type: ignore[index]

        asyncio.run(place_all())
    return placed, rows


def _failed_orders(deployment: Deployment, maker: OrderMaker) -> tuple[dict[str, object], list[str]]:
    """Orders that fail at the payment: what they left in audit_log and orders, and integrity findings
    (a 201 while no charge can succeed carries a payment id nobody issued)."""
    audit_before = int(deployment.scalar("SELECT coalesce(max(id), 0) FROM audit_log"))
    orders_before = int(deployment.scalar("SELECT coalesce(max(id), 0) FROM orders"))
    statuses: dict[str, dict[int, int]] = {}
    answered_201: list[int] = []
    findings: list[str] = []
    for kind, charges in (("declined", {"decline": True}), ("down", {"fail_first": 10, "failure": "503"})):
        deployment.stub.configure(charges={"decline": False, "fail_first": 0, **charges})
        placed = Placed()

        async def place_all(into: Placed = placed) -> None:
            async with app_client(deployment.url) as client:
                for _ in range(FAILING):
                    await place_one(client, maker.body(), into)

        asyncio.run(place_all())
        statuses[kind] = placed.samples.statuses
        answered_201 += placed.ids
        findings += charge_findings(placed.created, deployment.stub.stats(), f"while payments are {kind}")
    deployment.stub.configure(charges={"decline": False, "fail_first": 0})
    # Rows of orders the app answered 201 are not a failed order's (a made-up payment is an integrity finding).
    left = "SELECT count(*) FROM audit_log WHERE id > %s AND (order_id IS NULL OR NOT order_id = ANY(%s))"
    return {
        "statuses": statuses,
        "audit_rows_left": int(deployment.scalar(left, audit_before, answered_201)),
        "orders_left": int(deployment.scalar("SELECT count(*) FROM orders WHERE id > %s", orders_before)),
    }, findings


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        deployment.proxy.configure(latency_ms=DB_LATENCY_MS)
        placed, rows = _visible_at_answer(deployment, maker)
        charges = deployment.stub.stats()
        deployment.proxy.configure(latency_ms=0)  # what a failed order leaves needs no race to show
        failed, failed_findings = _failed_orders(deployment, maker)
        ids = placed.ids
        later = int(deployment.scalar("SELECT count(*) FROM audit_log WHERE order_id = ANY(%s)", ids) or 0)
        # Rows written by one transaction carry its id as xmin: an audit row committed on its own has another.
        apart = int(deployment.scalar(SEPARATE_TRANSACTIONS, ids) or 0)
        warnings = deployment.app.log_text().count("was never awaited")
    at_answer = sum(rows)
    evidence = {
        "orders_created": len(ids),
        "order_statuses": placed.samples.statuses,
        "db_latency_ms": DB_LATENCY_MS,
        "audit_rows_at_answer": rows,
        "audit_rows_after_all": later,
        "audit_rows_in_another_transaction": apart,
        "failed_at_payment": failed,
        "never_awaited_warnings_in_log": warnings,
    }
    integrity = charge_findings(placed.created, charges, "with a healthy payments API") + failed_findings
    if len(ids) < ORDERS and not integrity:
        return inconclusive(BUG, f"only {len(ids)} of {ORDERS} orders succeeded", evidence)
    problems = []
    if later > at_answer:
        problems.append(f"{later - at_answer} audit rows appeared only after their order was answered")
    if apart:
        problems.append(f"{apart} audit rows were committed in a transaction other than their order's")
    if failed["audit_rows_left"]:
        problems.append(f"orders that failed at the payment left {failed['audit_rows_left']} audit rows")
    what = f"audit rows per order when it is answered ({at_answer} for {len(ids)} orders)"
    result = judge(BUG, at_answer / max(len(ids), 1), evidence, what=what, problems=problems)
    result.integrity = integrity
    return result
