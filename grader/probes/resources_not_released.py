"""resources-not-released: on shutdown the app closes every database connection it holds, gracefully.

Started normally, after reads and orders and then SIGTERM, each PostgreSQL connection the app held must
end with a Terminate message (an engine disposed, a pool closed); one never closed is only dropped when
the process exits, as the proxy sees. Where the resources were built is resources-at-import's question.
"""

from __future__ import annotations

import time

import httpx

from grader import kitdata
from grader.kitdata import API_KEY
from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge

BUG = "resources-not-released"
METRIC = "connections_dropped_on_shutdown"
CLOSE_SETTLE_S = 0.5  # the proxy classifies a close once both sides of the pair are done


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        with httpx.Client(base_url=deployment.url, timeout=kitdata.HTTP_TIMEOUT_S) as client:
            for product_id in range(1, 21):
                client.get(f"/products/{product_id}")
            for product_id in (5001, 5002):
                client.post(
                    "/orders",
                    headers={"X-API-Key": API_KEY},
                    json={
                        "customer_email": "shutdown@example.org",
                        "items": [{"product_id": product_id, "quantity": 1}],
                    },
                )
        before = deployment.proxy.stats()
        exit_code = deployment.app.terminate()
        time.sleep(CLOSE_SETTLE_S)
        after = deployment.proxy.stats()
    evidence = {
        "open_at_sigterm": before["connections_open"],
        "exit_code": exit_code,
        "closed_gracefully": after["closed_graceful"] - before["closed_graceful"],
        "dropped": after["closed_dropped"] - before["closed_dropped"],
    }
    if not before["connections_open"] and not before["connections_opened"]:
        return inconclusive(BUG, "the app opened no database connection to release", evidence)
    dropped = int(evidence["dropped"])
    what = f"database connections (of {before['connections_open']} open at SIGTERM) dropped without Terminate"
    return judge(BUG, dropped, evidence, what=what)
