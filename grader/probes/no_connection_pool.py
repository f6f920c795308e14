"""no-connection-pool: every request pays a PostgreSQL handshake; the proxy counts the connections."""

from __future__ import annotations

import asyncio
import random

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import Samples, app_client, timed

BUG = "no-connection-pool"
METRIC = "connections_per_100_requests"
REQUESTS = 200
CONCURRENCY = 4


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        sessions_before = int(
            deployment.scalar("SELECT sessions FROM pg_stat_database WHERE datname = current_database()") or 0
        )
        deployment.proxy.reset()
        reads = asyncio.run(_reads(deployment.url))
        opened = int(deployment.proxy.stats()["connections_opened"])
        sessions_after = int(
            deployment.scalar("SELECT sessions FROM pg_stat_database WHERE datname = current_database()") or 0
        )
    evidence = {
        "requests": REQUESTS,
        "concurrency": CONCURRENCY,
        "statuses": reads.statuses,
        "proxy_connections_opened": opened,
        # the grader's own query connection is one of these sessions
        "pg_stat_database_sessions_delta": sessions_after - sessions_before - 1,
    }
    if reads.ok(200) < REQUESTS * 0.9:
        return inconclusive(BUG, f"only {reads.ok(200)} of {REQUESTS} reads succeeded", evidence)
    return judge(BUG, opened * 100 / REQUESTS, evidence, what="new database connections per 100 requests")


async def _reads(url: str) -> Samples:
    samples = Samples()
    ids = random.Random(2).sample(range(1, 10001), REQUESTS)
    gate = asyncio.Semaphore(CONCURRENCY)
    async with app_client(url) as client:

        async def read(product_id: int) -> None:
            async with gate:
                await timed(samples, client.get(f"/products/{product_id}"))

        await asyncio.gather(*(read(i) for i in ids))
    return samples
