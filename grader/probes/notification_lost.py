"""notification-lost: every order's confirmation arrives, across failures of the endpoint and SIGTERM.

Orders are taken from the database (an order that was committed but answered with an error still owes
its customer a confirmation). First the endpoint fails the first two attempts of every order's
notification: each must still be delivered within the deadline (bounded retries). Then the endpoint
fails the first attempt and is slow, and the app gets SIGTERM right after answering an order: what it
still owes must be delivered before it exits (a drain on shutdown), not dropped with the process.
"""

from __future__ import annotations

import time

import httpx

from grader import kitdata
from grader.kitdata import API_KEY
from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import OrderMaker
from grader.probes._work import charge_findings, place_orders
from grader.runner.deploy import Deployment

QUICK = False  # not in --quick: it waits out retried deliveries (up to 7 s)
BUG = "notification-lost"
METRIC = "lost_notifications"
ORDERS = 3
DELIVERY_DEADLINE_S = 7.0
SHUTDOWN_DELAY_MS = 300
# Once the app has exited nothing of it is left to deliver (its sandbox ends with it): only a notification
# it sent just before, still in the endpoint's latency, can yet be answered.
AFTER_EXIT_S = SHUTDOWN_DELAY_MS / 1000 + 1.0


def _orders_since(deployment: Deployment, after: int) -> set[int]:
    return {int(r[0]) for r in deployment.query("SELECT id FROM orders WHERE id > %s", after)}


def _delivered(deployment: Deployment) -> set[int]:
    return {
        int(n["order_id"])
        for n in deployment.stub.stats()["notifications"]
        if n.get("answered_status") in (200, 201, 202)
    }


def _wait_delivered(deployment: Deployment, orders: set[int], seconds: float = DELIVERY_DEADLINE_S) -> set[int]:
    """The orders still without a delivered notification after `seconds`."""
    deadline = time.monotonic() + seconds
    while (missing := orders - _delivered(deployment)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return missing


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        start = int(deployment.scalar("SELECT coalesce(max(id), 0) FROM orders"))
        deployment.stub.configure(notifications={"fail_first": 2, "failure": "503"})
        failing = place_orders(deployment.url, maker, ORDERS)
        charges = deployment.stub.stats()
        retried = _orders_since(deployment, start)
        lost = _wait_delivered(deployment, retried)
        # Stop the app right after an order is answered, its notification failing once and slow to deliver.
        before = int(deployment.scalar("SELECT coalesce(max(id), 0) FROM orders"))
        deployment.stub.configure(notifications={"latency_ms": SHUTDOWN_DELAY_MS, "fail_first": 1})
        response = httpx.post(
            f"{deployment.url}/orders",
            json=maker.body(),
            headers={"X-API-Key": API_KEY},
            timeout=kitdata.HTTP_TIMEOUT_S,
        )
        exit_code = deployment.app.terminate()
        pending = _orders_since(deployment, before)
        lost_on_shutdown = _wait_delivered(deployment, pending, AFTER_EXIT_S)
    evidence = {
        "orders_notify_fails_twice": sorted(retried),
        "statuses": failing.samples.statuses,
        "not_delivered": sorted(lost),
        "sigterm": {
            "order_status": response.status_code,
            "orders": sorted(pending),
            "exit_code": exit_code,
            "not_delivered": sorted(lost_on_shutdown),
        },
    }
    integrity = charge_findings(failing.created, charges, "while notifications fail")
    if not retried or not pending:
        result = inconclusive(BUG, "no order was created to owe a notification", evidence)
        result.integrity = integrity
        return result
    what = (
        f"notifications lost ({len(lost)} of {len(retried)} with two failures first,"
        f" {len(lost_on_shutdown)} of {len(pending)} across SIGTERM)"
    )
    result = judge(BUG, len(lost) + len(lost_on_shutdown), evidence, what=what)
    result.integrity = integrity
    return result
