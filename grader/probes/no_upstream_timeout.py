"""no-upstream-timeout: with the payments API hanging, an order must still be answered, and rolled back.

Answered with an error: a 201 while no charge can be made carries a payment id the provider never issued.
"""

from __future__ import annotations

import asyncio

from grader.probes._base import ProbeResult, ProbeTarget, judge
from grader.probes._measure import OrderMaker, app_client, summary
from grader.probes._work import Placed, charge_findings, place_one

QUICK = False  # not in --quick: it waits out a hung payments API (12 s)
BUG = "no-upstream-timeout"
METRIC = "unanswered_orders"
ORDERS = 3
WAIT_S = 12.0  # the contract bounds an answer at 10 s


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        bodies = [maker.body() for _ in range(ORDERS)]
        products = [item["product_id"] for body in bodies for item in body["items"]]  # type: ignore[attr-defined]
        stock_before = deployment.query("SELECT id, stock FROM products WHERE id = ANY(%s) ORDER BY id", products)
        deployment.stub.configure(charges={"hang": True})
        placed = asyncio.run(_orders(deployment.url, bodies))
        deployment.stub.configure(charges={"hang": False})  # frees what still waits, so the app stops at once
        stats = deployment.stub.stats()
        stock_after = deployment.query("SELECT id, stock FROM products WHERE id = ANY(%s) ORDER BY id", products)
    samples = placed.samples
    unanswered = sum(samples.errors.values())
    evidence = {
        "orders": ORDERS,
        "wait_s": WAIT_S,
        "statuses": samples.statuses,
        "unanswered": samples.errors,
        "answer_ms": summary(samples.latencies_ms),
        "stock_unchanged": stock_before == stock_after,
    }
    problems = [] if stock_before == stock_after else ["stock was not restored"]
    what = f"orders (of {ORDERS}) unanswered after {WAIT_S:.0f} s while payments hang"
    result = judge(BUG, unanswered, evidence, what=what, problems=problems)
    result.integrity = charge_findings(placed.created, stats, "while the payments API hung")
    return result


async def _orders(url: str, bodies: list[dict[str, object]]) -> Placed:
    placed = Placed()
    async with app_client(url, timeout=WAIT_S) as client:
        await asyncio.gather(*(place_one(client, body, placed) for body in bodies))
    return placed
