"""last-unit-race: more orders than units of stock, all at once; exactly the stock is sold.

Each round fires `stock + EXTRA` single-unit orders for one scarce product together. A check-then-update
(read the stock, compare, decrement) lets two orders pass the check for the last unit: the second then
breaks the stock >= 0 constraint (a 500, often a session left open) or, on a sync driver, blocks the whole
service behind the first one's row lock.
"""

from __future__ import annotations

import time
from typing import Any

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._contention import SETTLE_S, bursts, idle_in_transaction, order, stop_if_stuck

BUG = "last-unit-race"
METRIC = "race_anomalies"
ROUNDS = 3
EXTRA = 4  # orders beyond the stock in each round


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        scarce = [
            (int(r[0]), int(r[1]))
            for r in deployment.query(
                "SELECT id, stock FROM products WHERE stock BETWEEN 1 AND 3 ORDER BY id DESC LIMIT %s", ROUNDS
            )
        ]
        plenty = int(deployment.scalar("SELECT id FROM products WHERE stock >= 500 ORDER BY id LIMIT 1"))
        rounds = [
            [order(f"lastunit{p}-{n}@example.org", [(p, 1)]) for n in range(stock + EXTRA)] for p, stock in scarce
        ]
        results = bursts(deployment, rounds, order("lastunit-warm@example.org", [(plenty, 1)]))
        time.sleep(SETTLE_S)
        ids = [p for p, _ in scarce]
        left = {
            int(r[0]): int(r[1]) for r in deployment.query("SELECT id, stock FROM products WHERE id = ANY(%s)", ids)
        }
        idle = idle_in_transaction(deployment)
        stop_if_stuck(deployment, results)
    if len(scarce) < ROUNDS:
        return inconclusive(BUG, f"only {len(scarce)} products with stock 1-3 in the seed")
    evidence: dict[str, Any] = {"rounds": [], "idle_in_transaction_after": idle}
    # A session a 409 leaves open is connection-leak-on-error's question: shown here, never counted.
    anomalies, problems = 0, []
    for (product, stock), burst in zip(scarce, results, strict=False):  # a stuck service ends the rounds early
        sold_wrong = abs(burst.count(201) - stock)
        anomalies += burst.failures + sold_wrong + (left[product] != 0)
        evidence["rounds"].append(
            {
                "product": product,
                "stock": stock,
                "orders": stock + EXTRA,
                "statuses": burst.counts,
                "slowest_answer_s": burst.slowest_s,
                "stock_after": left[product],
            }
        )
        if burst.failures:
            problems.append(f"{burst.failures} of {stock + EXTRA} orders for {stock} units got a 5xx or no answer")
        elif sold_wrong or left[product] != 0:
            problems.append(f"{burst.count(201)} sold for {stock} units, {left[product]} left in stock")
    what = f"orders for the last units, {ROUNDS} rounds: wrong answers, server errors, stock left"
    return judge(BUG, anomalies, evidence, what=what, problems=problems[:2])
