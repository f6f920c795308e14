"""sync-db-driver: a blocking driver in async endpoints stalls the event loop for every round trip.

A sync driver can be left on any route, so the probe drives every database-backed route group in turn
(product reads, the product list, a customer's history, order reads, checkout), each with 10 clients
while every database round trip takes 80 ms more (20 ms for checkout, some ten round trips an order),
and times GET /health meanwhile (each read group first warmed at the database's own speed, so that every
pool the app reads through has its connections open). The verdict is the worst group's lag. Checkout
also hashes an API key (cpu-bound-in-async's question): when it alone is over the threshold, it is
measured again without the added latency, and only the lag the latency added counts. Each window is
bounded (grader/probes/_measure.py lag_under_load) and its clients ramp up only until a /health has
waited twice the threshold, so a frozen app costs no more time than a healthy one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from grader.catalogue import load_catalogue
from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import (
    ROUTE_SUCCESS,
    OrderMaker,
    Samples,
    Seeded,
    Send,
    app_client,
    drained,
    lag_under_load,
    percentile,
    place_orders,
    route_requests,
    summary,
    timing,
)
from grader.probes._together import LOOP_LAG
from grader.runner.deploy import Deployment

BUG = "sync-db-driver"
METRIC = "health_p90_ms"
DB_LATENCY_MS = 80
CLIENTS = 10
SECONDS_PER_GROUP = 0.8
CHECKOUT_SECONDS = 2.0  # orders whose key is hashed each time (no cache of verified keys) take a while
CHECKOUT_DB_LATENCY_MS = 20  # an order is some ten round trips: at 80 ms few would finish in a window
MIN_OK = 5
DRAIN_LIMIT_S = 1.5  # a frozen app is not worth more: its verdict is decided
MIN_STATEMENTS = 10  # ... or this many statements reached the database in the window
CHECKOUT = "POST /orders"


def _lag(deployment: Deployment, send: Send, seconds: float = SECONDS_PER_GROUP) -> tuple[Samples, Samples]:
    decided = 2 * load_catalogue().bug(BUG).threshold  # no more clients once a /health waited this long
    return lag_under_load(
        deployment.url, CLIENTS, seconds, timing(send), interval=0.05, grace=0.2, ramp_until_ms=decided
    )


def _warm(url: str, requests: dict[str, Send]) -> None:
    """Every read group `CLIENTS` times at once, at the database's own speed: each pool the app reads
    through has its connections open before the windows (a first connect through the slowed proxy is some
    ten round trips, not the driver's question)."""

    async def warm() -> None:
        async with app_client(url, timeout=10.0) as client:
            for name, send in requests.items():
                if name != CHECKOUT:
                    await asyncio.gather(*(send(client) for _ in range(CLIENTS)), return_exceptions=True)

    asyncio.run(warm())  # what fails here is judged, and named, by its group's window


def probe(target: ProbeTarget) -> ProbeResult:
    return LOOP_LAG.get(target, BUG)[BUG]


def measure(deployment: Deployment) -> ProbeResult:
    """The route groups' lag (grader/probes/_together.py: the last on its deployment)."""
    threshold = load_catalogue().bug(BUG).threshold
    groups: dict[str, dict[str, Any]] = {}
    values: dict[str, float] = {}
    maker = OrderMaker(deployment)
    requests = route_requests(Seeded.read(deployment), maker)
    # one order first: an app that remembers verified keys then checks the probe's key only once
    place_orders(deployment.url, maker, 1)
    _warm(deployment.url, requests)
    deployment.proxy.configure(latency_ms=DB_LATENCY_MS)
    for name, send in requests.items():  # checkout last: what its key checks queue stays out of the reads
        if name == CHECKOUT:
            deployment.proxy.configure(latency_ms=CHECKOUT_DB_LATENCY_MS)
        # what the group before queued would be charged to this one: wait until the app has worked it off
        waited = drained(deployment.url, limit_s=DRAIN_LIMIT_S)
        before = int(deployment.proxy.stats()["statements"])
        load, lag = _lag(deployment, send, CHECKOUT_SECONDS if name == CHECKOUT else SECONDS_PER_GROUP)
        statements = int(deployment.proxy.stats()["statements"]) - before
        ok = load.ok(ROUTE_SUCCESS.get(name, 200))
        groups[name] = {
            "requests_ms": summary(load.latencies_ms),
            "statuses": load.statuses,
            "errors": load.errors,
            "health_ms": summary(lag.latencies_ms),
            "health_errors": lag.errors,
            "succeeded": ok,
            "seconds_waited_before_for_the_app_to_drain": round(waited, 2),
            "statements_at_the_database": statements,
        }
        # a frozen loop answers few requests: that is the symptom; a calm one must show the route really
        # reached the database meanwhile (answers, or statements: a slow route may answer few in a window)
        lagged = percentile(lag.latencies_ms, 90) if lag.latencies_ms else 0.0
        if lag.latencies_ms and (ok >= MIN_OK or statements >= MIN_STATEMENTS or lagged > threshold):
            values[name] = lagged
    reads_over = any(value > threshold for name, value in values.items() if name != CHECKOUT)
    if not reads_over and values.get(CHECKOUT, 0.0) > threshold:
        # Checkout's lag may be its key check's (cpu-bound-in-async): count only what the latency added.
        deployment.proxy.configure(latency_ms=0)
        groups[CHECKOUT]["seconds_waited_for_the_app_to_drain"] = round(drained(deployment.url), 2)
        _, lag = _lag(deployment, requests[CHECKOUT], CHECKOUT_SECONDS)
        without = percentile(lag.latencies_ms, 90) if lag.latencies_ms else 0.0
        groups[CHECKOUT]["health_ms_without_db_latency"] = summary(lag.latencies_ms)
        values[CHECKOUT] = max(values[CHECKOUT] - without, 0.0)
    for name, value in values.items():
        groups[name]["judged_health_p90_ms"] = round(value, 2)
    evidence = {
        "db_latency_ms_per_round_trip": DB_LATENCY_MS,
        "db_latency_ms_per_round_trip_for_checkout": CHECKOUT_DB_LATENCY_MS,
        "clients": CLIENTS,
        "seconds_per_group": SECONDS_PER_GROUP,
        "seconds_for_checkout": CHECKOUT_SECONDS,
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
