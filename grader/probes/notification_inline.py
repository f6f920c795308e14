"""notification-inline: the confirmation leaves the request path, arrives for every order, survives SIGTERM.

Latency is compared with and without a slow notification endpoint (PBKDF2 and database time cancel out);
delivery is checked for every order created, also when the endpoint fails twice first and when the app is
stopped right after answering.
"""

from __future__ import annotations

import math
import statistics
import time

import httpx

from grader.kitdata import API_KEY
from grader.probes._base import ProbeResult, ProbeTarget, judge
from grader.probes._measure import OrderMaker, place_orders
from grader.runner.deploy import Deployment

QUICK = False  # not in --quick: it waits out slow and lost notifications (up to 7 s)
BUG = "notification-inline"
METRIC = "extra_latency_ms"
ORDERS = 5
DELAY_MS = 500
DELIVERY_DEADLINE_S = 7.0
FIRST_SEED_ORDER = 20001


def _created_orders(deployment: Deployment) -> set[int]:
    return {int(r[0]) for r in deployment.query("SELECT id FROM orders WHERE id >= %s", FIRST_SEED_ORDER)}


def _delivered(deployment: Deployment) -> set[int]:
    return {
        int(n["order_id"])
        for n in deployment.stub.stats()["notifications"]
        if n.get("answered_status") in (200, 201, 202)
    }


def _wait_delivered(deployment: Deployment, orders: set[int]) -> set[int]:
    """The orders still without a delivered notification at the deadline."""
    deadline = time.monotonic() + DELIVERY_DEADLINE_S
    while (missing := orders - _delivered(deployment)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return missing


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        fast = place_orders(deployment.url, maker, ORDERS)[0]
        deployment.stub.configure(notifications={"latency_ms": DELAY_MS})
        slow = place_orders(deployment.url, maker, ORDERS)[0]
        deployment.stub.configure(notifications={"latency_ms": 0, "fail_first": 2, "failure": "503"})
        failing = place_orders(deployment.url, maker, 3)[0]
        lost = _wait_delivered(deployment, _created_orders(deployment))
        # Stop the app right after an order is answered while its notification is still slow to deliver.
        deployment.stub.configure(notifications={"latency_ms": 1000, "fail_first": 0})
        response = httpx.post(
            f"{deployment.url}/orders", json=maker.body(), headers={"X-API-Key": API_KEY}, timeout=20.0
        )
        deployment.app.terminate()
        pending = {int(response.json()["id"])} if response.status_code == 201 else set()
        lost_on_shutdown = _wait_delivered(deployment, pending)
    if fast.ok(201) < 3 or slow.ok(201) < 3:
        extra = float(DELAY_MS) if slow.ok(201) < 3 <= fast.ok(201) else float("nan")
    else:
        extra = statistics.median(slow.latencies_ms) - statistics.median(fast.latencies_ms)
    evidence = {
        "order_ms_median": {
            "notify_fast": round(statistics.median(fast.latencies_ms), 1),
            f"notify_{DELAY_MS}ms": round(statistics.median(slow.latencies_ms), 1),
        },
        "statuses": {"fast": fast.statuses, "slow": slow.statuses, "notify_fails_twice": failing.statuses},
        "orders_without_notification": sorted(lost),
        "sigterm_order_status": response.status_code,
        "lost_on_shutdown": sorted(lost_on_shutdown),
    }
    problems = []
    if math.isnan(extra):
        problems.append("too few orders succeeded to compare latencies")
    if failing.ok(201) < 3:
        problems.append(f"orders fail when the notification endpoint fails ({failing.statuses})")
    if lost:
        problems.append(f"{len(lost)} orders never got their notification")
    if lost_on_shutdown:
        problems.append("a pending notification was lost on SIGTERM")
    what = f"extra order latency with a {DELAY_MS} ms notification endpoint"
    return judge(BUG, extra, evidence, what=what, problems=problems)
