"""notification-inline: the order confirmation is sent off the request path.

Order latency is compared with and without a slow notification endpoint (PBKDF2 and database time cancel
out), and orders must still succeed while the endpoint fails every attempt: an order that waits for, or
fails with, its notification has it inline. Whether the notification then arrives is another question,
asked by notification-lost.
"""

from __future__ import annotations

import math
import statistics

from grader.probes._base import ProbeResult, ProbeTarget, judge
from grader.probes._measure import OrderMaker
from grader.probes._work import charge_findings, place_orders

QUICK = False  # not in --quick: it places orders against a notification endpoint 500 ms slow
BUG = "notification-inline"
METRIC = "extra_latency_ms"
ORDERS = 5
FAILING = 3
DELAY_MS = 500


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        fast = place_orders(deployment.url, maker, ORDERS)
        deployment.stub.configure(notifications={"latency_ms": DELAY_MS})
        slow = place_orders(deployment.url, maker, ORDERS)
        deployment.stub.configure(notifications={"latency_ms": 0, "fail_first": 1000, "failure": "503"})
        failing = place_orders(deployment.url, maker, FAILING)
        stats = deployment.stub.stats()
    fast_ok, slow_ok = fast.samples.ok(201), slow.samples.ok(201)
    if fast_ok < 3 or slow_ok < 3:
        extra = float(DELAY_MS) if slow_ok < 3 <= fast_ok else float("nan")
    else:
        extra = statistics.median(slow.samples.latencies_ms) - statistics.median(fast.samples.latencies_ms)
    evidence = {
        "order_ms_median": {
            "notify_fast": round(statistics.median(fast.samples.latencies_ms), 1),
            f"notify_{DELAY_MS}ms": round(statistics.median(slow.samples.latencies_ms), 1),
        },
        "statuses": {
            "fast": fast.samples.statuses,
            "slow": slow.samples.statuses,
            "notify_always_fails": failing.samples.statuses,
        },
    }
    problems = []
    if math.isnan(extra):
        problems.append("too few orders succeeded to compare latencies")
    if failing.samples.ok(201) < FAILING:
        problems.append(f"orders fail when the notification endpoint fails ({failing.samples.statuses})")
    what = f"extra order latency with a {DELAY_MS} ms notification endpoint"
    result = judge(BUG, extra, evidence, what=what, problems=problems)
    created = [*fast.created, *slow.created, *failing.created]
    result.integrity = charge_findings(created, stats, "while notifications are slow or failing")
    return result
