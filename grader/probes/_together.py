"""Probes that share one deployment per grade, because a deployment costs seconds and they cannot
disturb each other in the order they run:

- LOOP_LAG: cpu-bound-in-async's key checks (no added database latency), then, once the app has
  worked off what they queued, sync-db-driver's route groups;
- QUERIES: n-plus-one's statement counts (on customers of its own), then sync-bridge-deadlock's first
  conversions (orders n-plus-one never reads).

Whichever of a pair runs first takes both measurements; the other reads its result (grader/probes/
_measure.py Shared). Each keeps its own verdict, evidence and message.
"""

from __future__ import annotations

from grader.probes._base import ProbeResult, ProbeTarget
from grader.probes._measure import Shared, drained


def _loop_lag(target: ProbeTarget) -> dict[str, ProbeResult]:
    from grader.probes import cpu_bound_in_async, sync_db_driver  # noqa: PLC0415  # they import this module

    with target.deploy() as deployment:
        keys = cpu_bound_in_async.measure(deployment)
        keys.evidence["seconds_waited_for_the_app_to_drain_after"] = round(drained(deployment.url), 2)
        database = sync_db_driver.measure(deployment)
    return {cpu_bound_in_async.BUG: keys, sync_db_driver.BUG: database}


def _queries(target: ProbeTarget) -> dict[str, ProbeResult]:
    from grader.probes import n_plus_one, sync_bridge_deadlock  # noqa: PLC0415  # they import this module

    with target.deploy() as deployment:
        statements = n_plus_one.measure(deployment)
        conversions = sync_bridge_deadlock.measure(deployment)
    return {n_plus_one.BUG: statements, sync_bridge_deadlock.BUG: conversions}


LOOP_LAG = Shared(("sync-db-driver", "cpu-bound-in-async"), _loop_lag)
QUERIES = Shared(("n-plus-one", "sync-bridge-deadlock"), _queries)
