"""orphan-charge: an order that fails after its charge was sent must not leave the customer charged.

A real payments provider finishes what it received: a charge whose answer was lost, or one still running
when the app gave up on it, is made all the same. An app that then rolls its order back has taken money
for nothing; one that marks an order paid without a charge has given goods away. Two rounds of orders,
with the provider's cancellations down as well (a provider that is down is down for both, so a single
attempt to undo the charge inside the request fails):

1. answers lost: every charge attempt is made and its answer lost (a reset after the work), until the
   app's retries run out;
2. slower than the app's deadline: every charge attempt is held, and made when the provider recovers
   (`completes_late`), after the app has answered; an app that never gives up is released after `HELD_S`.

Then the provider recovers and the app has `SETTLE_S` to put its books right (cancel what it could not
sell, or record what it sold). Counted: charges at the provider that no order carries, and paid orders
whose charge is not at the provider (never made, or refunded). Both must be zero.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from grader.infra.payments_stub import live_charge_ids
from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import OrderMaker, app_client, summary
from grader.probes._work import Placed, place_one, place_orders
from grader.runner.deploy import Deployment

BUG = "orphan-charge"
METRIC = "charges_without_order"
BAND = None  # a count of wrong books: a fixed app has none
QUICK = False  # waits out the app's deadline, and its settling
ORDERS = 3
HELD_S = 12.0  # past the contract's bound for a failed charge (10 s): every app that gives up has by then
FINISH_S = 10.0  # for the provider to finish the charges it held
SETTLE_S = 10.0  # for the app to settle its books once the provider is back
POLL_S = 0.5
DOWN = {"fail_first": 1_000_000, "failure": "503"}
HEALTHY = {"hang": False, "latency_ms": 0.0, "fail_first": 0, "fail_every": 0, "failure": "503"}
ROUNDS: dict[str, dict[str, dict[str, Any]]] = {
    "answers_lost": {"charges": {"fail_first": 1_000_000, "failure": "reset_after_success"}, "cancellations": DOWN},
    "slower_than_deadline": {
        "charges": {"hang": True, "completes_late": True, "fail_first": 0},
        "cancellations": DOWN,
    },
}
EXAMPLES = 3


def _together(url: str, maker: OrderMaker, count: int, timeout: float) -> Placed:
    """`count` orders sent at once, each waited for up to `timeout` seconds."""

    async def place() -> Placed:
        placed = Placed()
        async with app_client(url, timeout=timeout) as client:
            await asyncio.gather(*(place_one(client, maker.body(), placed) for _ in range(count)))
        return placed

    return asyncio.run(place())


def _books(deployment: Deployment, since: int) -> dict[str, Any]:
    """Charges the provider holds that no order carries, and paid orders without a charge it holds."""
    stats = deployment.stub.stats()
    charges = stats.get("charges_by_key", {}).values()
    live = live_charge_ids(stats)
    refunded = {str(c.get("id")) for c in charges if c.get("status") == "refunded"}
    orders = deployment.query("SELECT id, status, payment_id FROM orders WHERE id > %s ORDER BY id", since)
    carried = {str(o[2]) for o in orders if o[2] is not None}
    return {
        "orphans": sorted(live - carried),
        "paid_without_charge": [int(o[0]) for o in orders if o[1] == "paid" and str(o[2]) not in live],
        "paid_on_refunded": [int(o[0]) for o in orders if o[1] == "paid" and str(o[2]) in refunded],
        "orders": {str(status): sum(o[1] == status for o in orders) for status in sorted({o[1] for o in orders})},
        "charges": {"live": len(live), "refunded": len(refunded)},
        "cancelled_keys": len(stats.get("cancelled_keys", [])),
        "charge_requests": int(stats.get("requests", {}).get("charges", 0)),
        "cancellation_requests": int(stats.get("requests", {}).get("cancellations", 0)),
        "late_charges": int(stats.get("late_charges", 0)),
        "in_flight": int(stats.get("charges_in_flight", 0)),
    }


def _wait(deployment: Deployment, since: int, seconds: float, done: Any) -> tuple[dict[str, Any], float]:
    """Read the books every POLL_S until `done(books)` or `seconds` pass; the last books and the time taken."""
    started = time.monotonic()
    while True:
        books = _books(deployment, since)
        waited = time.monotonic() - started
        if done(books) or waited >= seconds:
            return books, waited
        time.sleep(POLL_S)


def _round(deployment: Deployment, maker: OrderMaker, since: int, faults: dict[str, Any]) -> dict[str, Any]:
    """Orders under `faults`; then the provider recovers, finishes what it held, and the app settles."""
    deployment.stub.configure(**faults)
    placed = _together(deployment.url, maker, ORDERS, HELD_S)
    deployment.stub.configure(charges={**HEALTHY, "completes_late": False}, cancellations=HEALTHY)
    _, finish_s = _wait(deployment, since, FINISH_S, lambda books: books["in_flight"] == 0)
    books, settle_s = _wait(
        deployment, since, SETTLE_S, lambda b: not (b["orphans"] or b["paid_without_charge"] or b["in_flight"])
    )
    return {
        "statuses": placed.samples.statuses,
        "errors": placed.samples.errors,
        "order_ms": summary(placed.samples.latencies_ms),
        "seconds_for_the_provider_to_finish": round(finish_s, 2),
        "seconds_to_settle": round(settle_s, 2),
        "books": books,
    }


def probe(target: ProbeTarget) -> ProbeResult:
    rounds: dict[str, dict[str, Any]] = {}
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        since = int(deployment.scalar("SELECT coalesce(max(id), 0) FROM orders"))
        warm = place_orders(deployment.url, maker, 1)
        if warm.samples.ok(201) != 1:
            return inconclusive(BUG, f"an order on a healthy provider was not placed: {warm.samples.statuses}")
        for name, faults in ROUNDS.items():
            rounds[name] = outcome = _round(deployment, maker, since, faults)
            books = outcome["books"]
            if books["in_flight"] or books["orphans"] or books["paid_without_charge"]:
                break  # decided: the next round could only add to it
    if books["in_flight"] or not books["charge_requests"]:
        return inconclusive(BUG, f"the provider's books never came to rest: {books}")
    wrong = len(books["orphans"]) + len(books["paid_without_charge"])
    for outcome in rounds.values():
        outcome["books"] = {**outcome["books"], "orphans": outcome["books"]["orphans"][:EXAMPLES]}
    evidence = {"orders_per_round": ORDERS, "settle_window_s": SETTLE_S, "rounds": rounds}
    problems = []
    if books["paid_without_charge"]:
        problems.append(
            f"{len(books['paid_without_charge'])} paid orders with no charge at the provider"
            f" (orders {books['paid_without_charge'][:EXAMPLES]})"
        )
    what = (
        f"charges no order carries plus paid orders without a charge, up to {SETTLE_S:g} s after the provider"
        f" recovered from {' then '.join(rounds)} ({len(books['orphans'])} charges,"
        f" {len(books['paid_without_charge'])} orders)"
    )
    result = judge(BUG, wrong, evidence, what=what, problems=problems)
    result.integrity = problems
    return result
