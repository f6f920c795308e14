"""no-upstream-timeout: with the payments API hanging, an order must still be answered, and rolled back."""

from __future__ import annotations

import asyncio

from grader.kitdata import API_KEY
from grader.probes._base import ProbeResult, ProbeTarget, judge
from grader.probes._measure import OrderMaker, Samples, app_client, summary, timed

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
        samples = asyncio.run(_orders(deployment.url, bodies))
        deployment.stub.configure(charges={"hang": False})  # frees what still waits, so the app stops at once
        stock_after = deployment.query("SELECT id, stock FROM products WHERE id = ANY(%s) ORDER BY id", products)
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
    return judge(BUG, unanswered, evidence, what=what, problems=problems)


async def _orders(url: str, bodies: list[dict[str, object]]) -> Samples:
    samples = Samples()
    async with app_client(url, timeout=WAIT_S) as client:
        await asyncio.gather(
            *(timed(samples, client.post("/orders", json=body, headers={"X-API-Key": API_KEY})) for body in bodies)
        )
    return samples
