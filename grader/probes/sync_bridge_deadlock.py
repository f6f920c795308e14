"""sync-bridge-deadlock: a sync helper waiting on a future of its own loop can only time out.

A cache in front of the bridge hides it after the first conversion of a currency, so every call asks
for a currency this deployment has not converted yet (three of the stub's currencies other than USD)
and the verdict is the slowest call, not a median that the cached ones would make.
"""

from __future__ import annotations

import asyncio
import random

from grader.infra.payments_stub import MID_RATES
from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import Samples, app_client, lag_during, summary, timed
from grader.probes._together import LOOP_LAG
from grader.runner.deploy import Deployment

BUG = "sync-bridge-deadlock"
METRIC = "convert_max_ms"
FIRST_ORDER = 101


CALLS = 3  # each ~1 s where the bridge blocks


def _currencies(deployment: Deployment) -> list[str]:
    """Three of the stub's currencies, drawn per deployment: no fixed set an app could warm up front."""
    return random.Random(deployment.dbname).sample(sorted(MID_RATES), CALLS)


def probe(target: ProbeTarget) -> ProbeResult:
    return LOOP_LAG.get(target, BUG)[BUG]


def measure(deployment: Deployment) -> ProbeResult:
    """The slowest first conversion (grader/probes/_together.py: after n-plus-one)."""
    currencies = _currencies(deployment)
    calls, lag, slowest = asyncio.run(_convert(deployment.url, currencies))
    evidence = {
        "currencies": currencies,
        "statuses": calls.statuses,
        "convert_ms": dict(zip(currencies, (round(ms, 1) for ms in calls.latencies_ms), strict=False)),
        "health_ms": summary(lag.latencies_ms),
    }
    refused = sorted(str(status) for status in calls.statuses if 400 <= status < 500)
    if refused:
        # The payments API serves these currencies: an app refusing them never looks the rate up (a copied
        # table, say). That removes the bridge with the feature; it does not make the lookup async.
        problem = f"answered {', '.join(refused)} for currencies the payments API serves: the rate is never looked up"
        return judge(BUG, max(calls.latencies_ms), evidence, what="slowest conversion", problems=[problem])
    if calls.ok(200) < len(currencies):
        return inconclusive(BUG, f"only {calls.ok(200)} of {len(currencies)} conversions answered 200", evidence)
    what = f"slowest first conversion, GET /orders/{{id}}?currency={slowest}"
    return judge(BUG, max(calls.latencies_ms), evidence, what=what)


async def _convert(url: str, currencies: list[str]) -> tuple[Samples, Samples, str]:
    calls = Samples()
    async with app_client(url) as client, app_client(url) as health:

        async def convert_all() -> None:
            for n, currency in enumerate(currencies):
                await timed(calls, client.get(f"/orders/{FIRST_ORDER + n}", params={"currency": currency}))

        lag = await lag_during(health, convert_all(), interval=0.05)
    slowest = currencies[calls.latencies_ms.index(max(calls.latencies_ms))] if calls.latencies_ms else ""
    return calls, lag, slowest
