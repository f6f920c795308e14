"""http-client-per-request: a new client per call means a new TCP connection per call at the provider."""

from __future__ import annotations

import time

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import OrderMaker, place_orders

BUG = "http-client-per-request"
METRIC = "upstream_connections_per_call"
ORDERS = 20
SETTLE_S = 2.0  # notifications may leave after the response


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        samples, _ = place_orders(deployment.url, maker, ORDERS)
        time.sleep(SETTLE_S)
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
