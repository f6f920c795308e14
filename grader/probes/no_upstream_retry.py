"""no-upstream-retry: a transient 503 must be retried with the same Idempotency-Key, never double-charged.

Two series of orders. First, the payments API answers 503 to the first attempt of every key: each order
must still succeed and its charge must be at the provider for its total (which, the first attempt of
every key failing, takes a second attempt under the same key: a 201 without one carries a payment id
nobody issued). Then the provider
charges but the answer is lost (a reset after the work): retrying under the same key gets the same
charge back; a retry under a new key, or none, leaves a charge that no order carries.
"""

from __future__ import annotations

from grader.probes._base import ProbeResult, ProbeTarget, judge
from grader.probes._measure import OrderMaker, summary
from grader.probes._work import attempts_of, charge_findings, orphan_charges, place_orders

BUG = "no-upstream-retry"
METRIC = "success_rate"
BAND = None  # a share of 10 orders: a fixed app's 1.0 would sit inside any relative band of 0.9
ORDERS = 10
LOST = 3


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        maker = OrderMaker(deployment)
        deployment.stub.configure(charges={"fail_first": 1, "failure": "503"})
        transient = place_orders(deployment.url, maker, ORDERS)
        transient_stats = deployment.stub.stats()
        deployment.stub.reset()
        deployment.stub.configure(charges={"fail_first": 1, "failure": "reset_after_success"})
        lost = place_orders(deployment.url, maker, LOST)
        lost_stats = deployment.stub.stats()
        paid = [r[0] for r in deployment.query("SELECT payment_id FROM orders WHERE payment_id IS NOT NULL")]
    charged = [*transient_stats["charges_created_by_key"].values(), *lost_stats["charges_created_by_key"].values()]
    double_charged = sum(count > 1 for count in charged)
    attempts = attempts_of(transient_stats, transient.created)
    orphans = orphan_charges(lost_stats, [*paid, *(o.get("payment_id") for o in lost.created)])
    rate = transient.samples.ok(201) / ORDERS
    evidence = {
        "first_attempt_503": {
            "orders": ORDERS,
            "statuses": transient.samples.statuses,
            "order_ms": summary(transient.samples.latencies_ms),
            "attempts_per_key": sorted(transient_stats["charge_attempts_by_key"].values()),
            "attempts_of_each_201": attempts,
        },
        "first_response_lost": {
            "orders": LOST,
            "statuses": lost.samples.statuses,
            "charges_per_key": sorted(lost_stats["charges_created_by_key"].values()),
            "charges_no_order_carries": orphans,
        },
        "keys_charged_twice": double_charged,
    }
    problems = [f"{double_charged} Idempotency-Keys charged more than once"] if double_charged else []
    if orphans:
        problems.append(
            f"{orphans} charges when the answer was lost that no order carries (retried under a new key, or not at all)"
        )
    integrity = charge_findings(transient.created, transient_stats, "after a 503 from the payments API")
    integrity += charge_findings(lost.created, lost_stats, "after a lost payments answer")
    what = f"share of {ORDERS} orders succeeding when the first charge attempt gets 503"
    result = judge(BUG, rate, evidence, what=what, problems=problems)
    result.integrity = integrity
    return result
