"""connection-leak-on-error: after a 409 the app must not keep a connection idle in a transaction.

Each round places one order that must fail with 409, then stays quiet for a moment (no traffic, so no
garbage collection happens to hide a leak) and counts the app's backends idle in a transaction.
"""

from __future__ import annotations

import time

import httpx

from grader.kitdata import API_KEY
from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.runner.deploy import Deployment

BUG = "connection-leak-on-error"
METRIC = "open_transactions_after_409s"
ROUNDS = 5
QUIET_S = 0.4
IDLE_IN_TRANSACTION = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND state LIKE 'idle in transaction%%' AND now() - state_change > interval '200 milliseconds'
"""


def _scarce_products(deployment: Deployment) -> list[tuple[int, int]]:
    rows = deployment.query("SELECT id, stock FROM products WHERE stock < 4 ORDER BY id LIMIT %s", ROUNDS)
    return [(int(r[0]), int(r[1])) for r in rows]


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment, httpx.Client(base_url=deployment.url, timeout=20.0) as client:
        statuses, open_counts = [], []
        for product, stock in _scarce_products(deployment):
            response = client.post(
                "/orders",
                headers={"X-API-Key": API_KEY},
                json={
                    "customer_email": f"stockout{product}@example.org",
                    "items": [{"product_id": product, "quantity": stock + 1}],
                },
            )
            statuses.append(response.status_code)
            time.sleep(QUIET_S)
            open_counts.append(int(deployment.scalar(IDLE_IN_TRANSACTION) or 0))
        after = [client.get(f"/products/{pid}").status_code for pid in (11, 12, 13)]
    evidence = {
        "rounds": ROUNDS,
        "statuses": statuses,
        "idle_in_transaction_after_each_round": open_counts,
        "reads_after": after,
    }
    if statuses.count(409) < ROUNDS:
        return inconclusive(BUG, f"expected {ROUNDS} answers 409, got {statuses}", evidence)
    problems = [] if after == [200, 200, 200] else [f"reads after the stock-outs answered {after}"]
    what = f"most connections left idle in a transaction after {ROUNDS} stock-outs"
    return judge(BUG, max(open_counts), evidence, what=what, problems=problems)
