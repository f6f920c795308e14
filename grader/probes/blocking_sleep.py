"""blocking-sleep: time.sleep in a retry back-off stalls the loop whenever the payments API flakes.

Measured as a difference, so CPU stalls that happen with or without failures (another bug) cancel out:
the longest /health stall while orders meet reset connections, minus the same with a healthy API.
"""

from __future__ import annotations

import asyncio

from grader.probes._base import ProbeResult, ProbeTarget, above, inconclusive
from grader.probes._measure import OrderMaker, Samples, app_client, lag_during, summary

BUG = "blocking-sleep"
METRIC = "extra_stall_ms"
ORDERS = 6
LIMIT_MS = 150


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        healthy_orders, healthy_lag = asyncio.run(_sequential_orders(deployment.url, maker))
        deployment.stub.configure(charges={"fail_first": 1, "failure": "reset"})
        flaky_orders, flaky_lag = asyncio.run(_sequential_orders(deployment.url, maker))
    evidence = {
        "orders_each_phase": ORDERS,
        "healthy": {"order_statuses": healthy_orders.statuses, "health_ms": summary(healthy_lag.latencies_ms)},
        "first_attempt_reset": {"order_statuses": flaky_orders.statuses, "health_ms": summary(flaky_lag.latencies_ms)},
    }
    if healthy_orders.ok(201) < ORDERS // 2 or not healthy_lag.latencies_ms or not flaky_lag.latencies_ms:
        return inconclusive(BUG, METRIC, "orders fail with a healthy payments API", evidence)
    extra = max(flaky_lag.latencies_ms) - max(healthy_lag.latencies_ms)
    return above(
        BUG,
        METRIC,
        extra,
        LIMIT_MS,
        evidence,
        unit=" ms",
        what="longest /health stall with retried charges minus without",
    )


async def _sequential_orders(url: str, maker: OrderMaker) -> tuple[Samples, Samples]:
    orders = Samples()
    async with app_client(url) as client, app_client(url) as health:

        async def place_all() -> None:
            for _ in range(ORDERS):
                await maker.place(client, orders)

        lag = await lag_during(health, place_all(), interval=0.01)
    return orders, lag
