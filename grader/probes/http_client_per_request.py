"""http-client-per-request: a new client per call means a new TCP connection per call at the provider."""

from __future__ import annotations

import time

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import OrderMaker
from grader.probes._work import charge_findings, place_orders

BUG = "http-client-per-request"
METRIC = "upstream_connections_per_order"
ORDERS = 12
SETTLE_S = 2.0  # notifications may leave after the response


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        placed = place_orders(deployment.url, maker, ORDERS)
        samples = placed.samples
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
    # Per order, not per call: a client built for only one of the two calls an order makes still shows
    # a whole connection per order instead of hiding at half of one per call.
    orders = samples.ok(201)
    result = judge(
        BUG, opened / orders, evidence, what=f"TCP connections at the payments API per order ({orders} orders)"
    )
    result.integrity = charge_findings(placed.created, stats, "with a healthy payments API")
    return result
