"""cpu-bound-in-async: PBKDF2 on the event loop freezes every other request while a key is checked."""

from __future__ import annotations

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import OrderMaker, lag_under_load, percentile, summary

BUG = "cpu-bound-in-async"
METRIC = "health_p90_ms"
CLIENTS = 4
DURATION = 4.0


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        orders, lag = lag_under_load(deployment.url, CLIENTS, DURATION, maker.place)
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
