"""Probes that share one deployment per grade, because a deployment costs seconds and they cannot
disturb each other in the order they run (each starts once the app has worked off what the one before
queued):

1. n-plus-one: statement counts, on customers of its own;
2. sync-bridge-deadlock: first conversions, of orders nothing else reads;
3. cpu-bound-in-async: key checks, with no added database latency;
4. sync-db-driver: the route groups, with the added latency (last: it is the only one that sets it).

Whichever of them runs first takes all four measurements; the others read their results (grader/probes/
_measure.py Shared). Each keeps its own verdict, evidence and message.
"""

from __future__ import annotations

import time

from grader.probes._base import ProbeResult, ProbeTarget
from grader.probes._measure import Shared, drained


def _measure(target: ProbeTarget) -> dict[str, ProbeResult]:
    # they import this module for LOOP_LAG
    from grader.probes import cpu_bound_in_async, n_plus_one, sync_bridge_deadlock, sync_db_driver  # noqa: PLC0415

    results: dict[str, ProbeResult] = {}
    with target.deploy() as deployment:
        for module in (n_plus_one, sync_bridge_deadlock, cpu_bound_in_async, sync_db_driver):
            waited = drained(deployment.url)
            started = time.monotonic()
            results[module.BUG] = result = module.measure(deployment)
            result.evidence["seconds_waited_before_for_the_app_to_drain"] = round(waited, 2)
            # the grade's phases charge all four to whichever ran first: each one's own time is here
            result.evidence["seconds_measuring"] = round(time.monotonic() - started, 2)
    return results


LOOP_LAG = Shared(("n-plus-one", "sync-bridge-deadlock", "cpu-bound-in-async", "sync-db-driver"), _measure)
