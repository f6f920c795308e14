"""cpu-bound-in-async: PBKDF2 on the event loop freezes every other request while a key is checked.

The keys sent have the right prefix and a fresh wrong secret each time: every one must be hashed in
full (a cache of accepted keys, a fair optimisation, cannot skip it) and answered 401.
"""

from __future__ import annotations

import secrets

import httpx

from grader.kitdata import API_KEY
from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import Samples, lag_under_load, percentile, summary, timed

BUG = "cpu-bound-in-async"
METRIC = "health_p90_ms"
CLIENTS = 4
DURATION = 3.0
MIN_CHECKS = 8
PREFIX = API_KEY.split(".", 1)[0]
BODY = {"customer_email": "probe-keys@example.org", "items": [{"product_id": 1, "quantity": 1}]}


async def _wrong_key(client: httpx.AsyncClient, samples: Samples) -> None:
    headers = {"X-API-Key": f"{PREFIX}.{secrets.token_hex(10)}"}
    await timed(samples, client.post("/orders", json=BODY, headers=headers))


def probe(target: ProbeTarget) -> ProbeResult:
    with target.deploy() as deployment:
        checks, lag = lag_under_load(deployment.url, CLIENTS, DURATION, _wrong_key)
    evidence = {
        "clients": CLIENTS,
        "seconds": DURATION,
        "key_checks_ms": summary(checks.latencies_ms),
        "key_check_statuses": checks.statuses,
        "health_ms": summary(lag.latencies_ms),
    }
    if checks.ok(401) < MIN_CHECKS:
        return inconclusive(BUG, f"only {checks.ok(401)} wrong keys were answered 401", evidence)
    return judge(
        BUG, percentile(lag.latencies_ms, 90), evidence, what="p90 of GET /health while wrong API keys are checked"
    )
