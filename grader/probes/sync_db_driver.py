"""sync-db-driver: a blocking driver in async endpoints stalls the event loop for every round trip."""

from __future__ import annotations

import random

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import lag_under_load, percentile, summary, timed

BUG = "sync-db-driver"
METRIC = "health_p90_ms"
DB_LATENCY_MS = 20
CLIENTS = 20
DURATION = 3.0


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        deployment.proxy.configure(latency_ms=DB_LATENCY_MS)
        rng = random.Random(1)
        reads, lag = lag_under_load(
            deployment.url,
            CLIENTS,
            DURATION,
            lambda client, samples: timed(samples, client.get(f"/products/{rng.randrange(1, 10001)}")),
            interval=0.05,
        )
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
