"""missing-await: the audit write is a coroutine nobody awaits, so its row never appears."""

from __future__ import annotations

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import OrderMaker, place_orders

BUG = "missing-await"
METRIC = "audit_rows_per_order"
ORDERS = 5


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        _, ids = place_orders(deployment.url, maker, ORDERS)
        rows = int(deployment.scalar("SELECT count(*) FROM audit_log WHERE order_id = ANY(%s)", ids) or 0)
        warnings = deployment.app.log_text().count("was never awaited")
    evidence = {"orders_created": len(ids), "audit_rows": rows, "never_awaited_warnings_in_log": warnings}
    if len(ids) < ORDERS:
        return inconclusive(BUG, f"only {len(ids)} of {ORDERS} orders succeeded", evidence)
    return judge(BUG, rows / len(ids), evidence, what=f"audit rows per order ({rows} for {len(ids)} orders)")
