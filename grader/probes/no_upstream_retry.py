"""no-upstream-retry: a transient 503 must be retried with the same Idempotency-Key, never double-charged."""

from __future__ import annotations

from grader.probes._base import ProbeResult, ProbeTarget, judge
from grader.probes._measure import OrderMaker, place_orders, summary

BUG = "no-upstream-retry"
METRIC = "success_rate"
ORDERS = 10


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        deployment.stub.configure(charges={"fail_first": 1, "failure": "503"})
        transient = place_orders(deployment.url, maker, ORDERS)[0]
        transient_stats = deployment.stub.stats()
        deployment.stub.reset()
        deployment.stub.configure(charges={"fail_first": 1, "failure": "reset_after_success"})
        lost = place_orders(deployment.url, maker, 3)[0]
        lost_stats = deployment.stub.stats()
    charged = [*transient_stats["charges_created_by_key"].values(), *lost_stats["charges_created_by_key"].values()]
    double_charged = sum(count > 1 for count in charged)
    rate = transient.ok(201) / ORDERS
    evidence = {
        "first_attempt_503": {
            "orders": ORDERS,
            "statuses": transient.statuses,
            "order_ms": summary(transient.latencies_ms),
            "attempts_per_key": sorted(transient_stats["charge_attempts_by_key"].values()),
        },
        "first_response_lost": {
            "orders": 3,
            "statuses": lost.statuses,
            "charges_per_key": sorted(lost_stats["charges_created_by_key"].values()),
        },
        "keys_charged_twice": double_charged,
    }
    problems = [f"{double_charged} Idempotency-Keys charged more than once"] if double_charged else []
    what = f"share of {ORDERS} orders succeeding when the first charge attempt gets 503"
    return judge(BUG, rate, evidence, what=what, problems=problems)
