"""http-client-per-request: a new client per call means a new TCP connection per call at the provider."""

from __future__ import annotations

import asyncio

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import OrderMaker, Samples, app_client

BUG = "http-client-per-request"
METRIC = "upstream_connections_per_call"
ORDERS = 20
SETTLE_S = 2.0  # notifications may leave after the response


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        samples = asyncio.run(_orders(deployment.url, maker))
        stats = deployment.stub.stats()
    calls = sum(stats["requests"].values())
    opened = int(stats["connections_opened"])
    evidence = {
        "orders": ORDERS,
        "statuses": samples.statuses,
        "upstream_requests": stats["requests"],
        "upstream_connections_opened": opened,
    }
    if samples.ok(201) < ORDERS // 2 or calls == 0:
        return inconclusive(BUG, f"only {samples.ok(201)} of {ORDERS} orders succeeded", evidence)
    return judge(BUG, opened / calls, evidence, what="TCP connections per payments API call")


async def _orders(url: str, maker: OrderMaker) -> Samples:
    samples = Samples()
    async with app_client(url) as client:
        for _ in range(ORDERS):
            await maker.place(client, samples)
    await asyncio.sleep(SETTLE_S)
    return samples
