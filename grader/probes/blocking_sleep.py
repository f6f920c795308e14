"""blocking-sleep: time.sleep in a retry back-off stalls the loop whenever the payments API flakes.

Measured as a difference, so CPU stalls that happen with or without failures (another bug) cancel out:
the 5th-longest /health stall while every charge meets two reset connections before it succeeds, minus
the same with a healthy API. The 5th-longest ignores a few stalls of the noisy machine; a back-off that
blocks stalls the loop twice for every one of the orders.

No stall is no proof: an app that stopped retrying has no back-off to block. So the charges must really
have been retried (more charge attempts at the payments API than orders) and every 201 must carry a
charge the provider made; otherwise the back-off was removed rather than made non-blocking: present.
"""

from __future__ import annotations

import asyncio

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import OrderMaker, Samples, app_client, lag_during, summary
from grader.probes._work import Placed, charge_findings, charge_requests, place_one

QUICK = False  # not in --quick: it compares two series of orders with and without resets (~10 s)
BUG = "blocking-sleep"
METRIC = "extra_stall_ms"
ORDERS = 6
RESETS_PER_CHARGE = 2
RANK = 5


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        healthy_orders, healthy_lag = asyncio.run(_sequential_orders(deployment.url, maker))
        healthy_stats = deployment.stub.stats()
        deployment.stub.reset()
        deployment.stub.configure(charges={"fail_first": RESETS_PER_CHARGE, "failure": "reset"})
        flaky_orders, flaky_lag = asyncio.run(_sequential_orders(deployment.url, maker))
        flaky_stats = deployment.stub.stats()
    attempts = charge_requests(flaky_stats)
    evidence = {
        "orders_each_phase": ORDERS,
        "healthy": {"order_statuses": healthy_orders.samples.statuses, "health_ms": summary(healthy_lag.latencies_ms)},
        "two_resets_per_charge": {
            "order_statuses": flaky_orders.samples.statuses,
            "health_ms": summary(flaky_lag.latencies_ms),
            "charge_attempts_at_payments_api": attempts,
        },
    }
    integrity = charge_findings(healthy_orders.created, healthy_stats, "with a healthy payments API")
    integrity += charge_findings(flaky_orders.created, flaky_stats, "while connections to the payments API reset")
    if healthy_orders.samples.ok(201) < ORDERS // 2 or not healthy_lag.latencies_ms or not flaky_lag.latencies_ms:
        result = inconclusive(BUG, "orders fail with a healthy payments API", evidence)
        if integrity:
            result.integrity = integrity
        return result
    extra = _ranked(flaky_lag.latencies_ms) - _ranked(healthy_lag.latencies_ms)
    what = f"{RANK}th-longest /health stall with retried charges minus without"
    problems = []
    if attempts <= ORDERS:
        problems.append(
            f"no charge was retried ({attempts} attempts for {ORDERS} orders whose connections reset):"
            " the back-off was removed, not made non-blocking"
        )
    result = judge(BUG, extra, evidence, what=what, problems=problems)
    result.integrity = integrity
    return result


def _ranked(latencies: list[float]) -> float:
    ordered = sorted(latencies, reverse=True)
    return ordered[min(RANK, len(ordered)) - 1]


async def _sequential_orders(url: str, maker: OrderMaker) -> tuple[Placed, Samples]:
    orders = Placed()
    async with app_client(url) as client, app_client(url) as health:

        async def place_all() -> None:
            for _ in range(ORDERS):
                await place_one(client, maker.body(), orders)

        lag = await lag_during(health, place_all(), interval=0.01)
    return orders, lag
