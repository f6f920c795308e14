"""cpu-bound-in-async: PBKDF2 on the event loop freezes every other request while a key is checked."""

from __future__ import annotations

import asyncio

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import OrderMaker, Samples, app_client, closed_loop, lag_during, percentile, summary

BUG = "cpu-bound-in-async"
METRIC = "health_p90_ms"
CLIENTS = 4
DURATION = 4.0


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        orders, lag = asyncio.run(_measure(deployment.url, maker))
    evidence = {
        "clients": CLIENTS,
        "seconds": DURATION,
        "orders_ms": summary(orders.latencies_ms),
        "order_statuses": orders.statuses,
        "health_ms": summary(lag.latencies_ms),
    }
    if orders.ok(201) < 4:
        return inconclusive(BUG, f"only {orders.ok(201)} orders succeeded", evidence)
    return judge(BUG, percentile(lag.latencies_ms, 90), evidence, what="p90 of GET /health while orders are placed")


async def _measure(url: str, maker: OrderMaker) -> tuple[Samples, Samples]:
    orders = Samples()
    async with app_client(url) as client, app_client(url) as health:

        async def order(_: int) -> None:
            await maker.place(client, orders)

        lag = await lag_during(health, closed_loop(CLIENTS, DURATION, order))
    return orders, lag
