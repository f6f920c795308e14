"""sync-bridge-deadlock: a sync helper waiting on a future of its own loop can only time out."""

from __future__ import annotations

import asyncio

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import Samples, app_client, lag_during, percentile, summary, timed

BUG = "sync-bridge-deadlock"
METRIC = "convert_p50_ms"
CALLS = 3


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        calls, lag = asyncio.run(_convert(deployment.url))
    evidence = {
        "calls": CALLS,
        "statuses": calls.statuses,
        "convert_ms": summary(calls.latencies_ms),
        "health_ms": summary(lag.latencies_ms),
    }
    if calls.ok(200) < CALLS:
        return inconclusive(BUG, f"only {calls.ok(200)} of {CALLS} conversions answered 200", evidence)
    return judge(BUG, percentile(calls.latencies_ms, 50), evidence, what="median GET /orders/{id}?currency=EUR")


async def _convert(url: str) -> tuple[Samples, Samples]:
    calls = Samples()
    async with app_client(url) as client, app_client(url) as health:

        async def convert_all() -> None:
            for order_id in range(101, 101 + CALLS):
                await timed(calls, client.get(f"/orders/{order_id}", params={"currency": "EUR"}))

        lag = await lag_during(health, convert_all(), interval=0.05)
    return calls, lag
