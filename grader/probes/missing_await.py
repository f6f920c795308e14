"""missing-await: the audit write is a coroutine nobody awaits, so its row never appears."""

from __future__ import annotations

import asyncio

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import OrderMaker, Samples, app_client

BUG = "missing-await"
METRIC = "audit_rows_per_order"
ORDERS = 5


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        ids = asyncio.run(_orders(deployment.url, maker))
        rows = int(deployment.scalar("SELECT count(*) FROM audit_log WHERE order_id = ANY(%s)", ids) or 0)
        warnings = deployment.app.log_text().count("was never awaited")
    evidence = {"orders_created": len(ids), "audit_rows": rows, "never_awaited_warnings_in_log": warnings}
    if len(ids) < ORDERS:
        return inconclusive(BUG, f"only {len(ids)} of {ORDERS} orders succeeded", evidence)
    return judge(BUG, rows / len(ids), evidence, what=f"audit rows per order ({rows} for {len(ids)} orders)")


async def _orders(url: str, maker: OrderMaker) -> list[int]:
    samples, ids = Samples(), []
    async with app_client(url) as client:
        for _ in range(ORDERS):
            response = await maker.place(client, samples)
            if response is not None and response.status_code == 201:
                ids.append(int(response.json()["id"]))
    return ids
