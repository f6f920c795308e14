"""sync-db-driver: a blocking driver in async endpoints stalls the event loop for every round trip."""

from __future__ import annotations

import asyncio
import random

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import Samples, app_client, closed_loop, lag_during, percentile, summary, timed

BUG = "sync-db-driver"
METRIC = "health_p90_ms"
DB_LATENCY_MS = 20
CLIENTS = 20
DURATION = 3.0


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        deployment.proxy.configure(latency_ms=DB_LATENCY_MS)
        reads, lag = asyncio.run(_measure(deployment.url))
    evidence = {
        "db_latency_ms_per_round_trip": DB_LATENCY_MS,
        "clients": CLIENTS,
        "seconds": DURATION,
        "reads_ms": summary(reads.latencies_ms),
        "read_statuses": reads.statuses,
        "health_ms": summary(lag.latencies_ms),
    }
    if reads.ok(200) < 10:
        return inconclusive(BUG, f"only {reads.ok(200)} product reads succeeded", evidence)
    return judge(
        BUG, percentile(lag.latencies_ms, 90), evidence, what="p90 of GET /health while reads wait on the database"
    )


async def _measure(url: str) -> tuple[Samples, Samples]:
    reads = Samples()
    rng = random.Random(1)
    async with app_client(url) as client, app_client(url) as health:

        async def read(_: int) -> None:
            await timed(reads, client.get(f"/products/{rng.randrange(1, 10001)}"))

        lag = await lag_during(health, closed_loop(CLIENTS, DURATION, read), interval=0.05)
    return reads, lag
