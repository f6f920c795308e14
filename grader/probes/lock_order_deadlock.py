"""lock-order-deadlock: two orders for the same products, listed in opposite orders, placed together.

Each order takes a row lock per product as it decrements the stock. Taken in the order the client listed
them, order X holds A and waits for B while order Y holds B and waits for A: PostgreSQL breaks the deadlock
by failing one (a 500), or, on a sync driver, the whole service stops behind the lock. Taken in one order
(say by product id), the second order simply waits for the first.
"""

from __future__ import annotations

from typing import Any

from grader.probes._base import ProbeResult, ProbeTarget, judge
from grader.probes._contention import bursts, order, stop_if_stuck

BUG = "lock-order-deadlock"
METRIC = "failed_orders"
PAIRS = 4  # pairs of crossed orders in each burst
ROUNDS = 2


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        ids = [
            int(r[0])
            for r in deployment.query(
                "SELECT id FROM products WHERE stock >= 500 ORDER BY id DESC LIMIT %s", 2 * PAIRS * ROUNDS + 1
            )
        ]
        warm, ids = ids[0], ids[1:]
        rounds = []
        for r in range(ROUNDS):
            bodies = []
            for n in range(PAIRS):
                a, b = ids[2 * (r * PAIRS + n)], ids[2 * (r * PAIRS + n) + 1]
                bodies += [
                    order(f"crossed{a}x@example.org", [(a, 1), (b, 1)]),
                    order(f"crossed{a}y@example.org", [(b, 1), (a, 1)]),
                ]
            rounds.append(bodies)
        results = bursts(deployment, rounds, order("crossed-warm@example.org", [(warm, 1)]))
        stop_if_stuck(deployment, results)
    # rounds a stuck service never got count as not placed
    failed = sum(len(bodies) for bodies in rounds) - sum(burst.count(201) for burst in results)
    evidence: dict[str, Any] = {
        "pairs_per_burst": PAIRS,
        "bursts": [burst.counts for burst in results],
        "slowest_answer_s": [burst.slowest_s for burst in results],
    }
    what = f"orders not placed of {ROUNDS * PAIRS * 2} crossed orders for products in stock"
    return judge(BUG, failed, evidence, what=what)
