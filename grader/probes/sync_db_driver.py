"""sync-db-driver: a blocking driver in async endpoints stalls the event loop for every round trip.

A sync driver can be left on any route, so the probe drives every database-backed route group in turn
(product reads, the product list, a customer's history, order reads, checkout), each with 20 clients
while every database round trip takes 20 ms more, and times GET /health meanwhile. The verdict is the
worst group's lag. A group over the threshold is measured again without the database latency: lag that
does not go away with it is not the database's (checkout also hashes an API key, which has its own
probe), so the group's value is the lag the latency added.
"""

from __future__ import annotations

from typing import Any

from grader.catalogue import load_catalogue
from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import (
    ROUTE_SUCCESS,
    OrderMaker,
    Samples,
    Seeded,
    Send,
    lag_under_load,
    percentile,
    route_requests,
    summary,
    timing,
)
from grader.runner.deploy import Deployment

BUG = "sync-db-driver"
METRIC = "health_p90_ms"
DB_LATENCY_MS = 20
CLIENTS = 20
SECONDS_PER_GROUP = 1.0
MIN_OK = 5


def _lag(deployment: Deployment, send: Send) -> tuple[Samples, Samples]:
    return lag_under_load(deployment.url, CLIENTS, SECONDS_PER_GROUP, timing(send), interval=0.05)


def probe(target: ProbeTarget) -> ProbeResult:
    threshold = load_catalogue().bug(BUG).threshold
    groups: dict[str, dict[str, Any]] = {}
    values: dict[str, float] = {}
    with target.deploy() as deployment:
        requests = route_requests(Seeded.read(deployment), OrderMaker(deployment))
        deployment.proxy.configure(latency_ms=DB_LATENCY_MS)
        for name, request in requests.items():
            load, lag = _lag(deployment, request)
            ok = load.ok(ROUTE_SUCCESS.get(name, 200))
            groups[name] = {
                "requests_ms": summary(load.latencies_ms),
                "statuses": load.statuses,
                "errors": load.errors,
                "health_ms": summary(lag.latencies_ms),
                "succeeded": ok,
            }
            if ok >= MIN_OK and lag.latencies_ms:
                values[name] = percentile(lag.latencies_ms, 90)
        over = [name for name, value in values.items() if value > threshold]
        if over:
            deployment.proxy.configure(latency_ms=0)
            for name in over:
                _, lag = _lag(deployment, requests[name])
                without = percentile(lag.latencies_ms, 90) if lag.latencies_ms else 0.0
                groups[name]["health_ms_without_db_latency"] = summary(lag.latencies_ms)
                values[name] = max(values[name] - without, 0.0)
    for name, value in values.items():
        groups[name]["judged_health_p90_ms"] = round(value, 2)
    evidence = {
        "db_latency_ms_per_round_trip": DB_LATENCY_MS,
        "clients": CLIENTS,
        "seconds_per_group": SECONDS_PER_GROUP,
        "groups": groups,
    }
    unmeasured = [name for name in groups if name not in values]
    if not values or (unmeasured and max(values.values()) <= threshold):
        detail = ", ".join(f"{name}: {groups[name]['statuses']}" for name in unmeasured)
        return inconclusive(BUG, f"too few requests succeeded to measure {detail}", evidence)
    worst = max(values, key=lambda name: values[name])
    evidence["worst_group"] = worst
    what = f"p90 of GET /health while {worst} waits on the database (worst of {len(values)} route groups)"
    return judge(BUG, values[worst], evidence, what=what)
