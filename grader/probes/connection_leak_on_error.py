"""connection-leak-on-error: no path may leave a connection idle in a transaction or checked out.

Any error path can leak (an unknown product, a stock-out, a bad body, a wrong key, a failing or hanging
payments API, a client that disconnects), so the probe reads the tour of every path
(grader/probes/_error_paths.py) and judges the path that left the most connections behind: backends
idle in a transaction it opened, and connections last active in it that the pool never lent again.
"""

from __future__ import annotations

from grader.probes._base import ProbeResult, ProbeTarget, judge
from grader.probes._error_paths import tour_for
from grader.probes._measure import answers

BUG = "connection-leak-on-error"
METRIC = "connections_left_by_worst_path"
MIN_BURST_SUCCESS = 0.9


def probe(target: ProbeTarget) -> ProbeResult:
    tour = tour_for(target, BUG)
    burst = tour.burst
    evidence = {
        "paths": {
            path.name: {
                "requests": path.requests,
                "statuses": path.samples.statuses,
                "errors": path.samples.errors,
                "idle_in_transaction_after": path.idle_in_transaction,
                "left_checked_out": path.left_checked_out,
            }
            for path in tour.paths
        },
        "reads_after": {"requests": len(burst.latencies_ms), "statuses": burst.statuses, "errors": burst.errors},
    }
    worst = max(tour.paths, key=lambda path: path.leaked)
    evidence["worst_path"] = worst.name
    problems = []
    answered = sum(burst.statuses.values()) + sum(burst.errors.values())  # abandoned requests are neither
    if answered and burst.ok(200) + burst.ok(201) < MIN_BURST_SUCCESS * answered:
        problems.append(f"reads after the error paths answered {answers(burst)}")
    paths = len(tour.paths)
    where = f"by {worst.name} (worst of {paths} paths)" if worst.leaked else f"by any of {paths} paths"
    what = f"connections left idle in a transaction or checked out {where}"
    return judge(BUG, worst.leaked, evidence, what=what, problems=problems)
