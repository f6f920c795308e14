"""connection-leak-on-error: no path may leave a connection idle in a transaction or checked out.

Any error path can leak (an unknown product, a stock-out, a bad body, a wrong key, a failing or hanging
payments API, a client that disconnects), so the probe reads the tour of every path
(grader/probes/_error_paths.py) and judges the path that left the most connections behind: backends
idle in a transaction it opened, and connections last active in it that the pool never lent again.
"""

from __future__ import annotations

from grader.probes._base import ProbeResult, ProbeTarget, judge
from grader.probes._error_paths import Path, tour_for
from grader.probes._measure import answers
from grader.probes.no_connection_pool import SANE_POOL_MAX

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
    # "Never lent again in the last burst" needs a burst that can use every connection the app holds: with
    # more than any sane pool holds, only connections left idle in a transaction tell a leak.
    oversized = max(tour.startup_opened, tour.startup_open, tour.idle_open) > SANE_POOL_MAX

    def leaked(path: Path) -> int:
        return path.idle_in_transaction if oversized else path.leaked

    worst = max(tour.paths, key=leaked)
    evidence["worst_path"] = worst.name
    evidence["counted_idle_in_transaction_only"] = oversized
    problems = []
    answered = sum(burst.statuses.values()) + sum(burst.errors.values())  # abandoned requests are neither
    if answered and burst.ok(200) + burst.ok(201) < MIN_BURST_SUCCESS * answered:
        problems.append(f"reads after the error paths answered {answers(burst)}")
    paths = len(tour.paths)
    where = f"by {worst.name} (worst of {paths} paths)" if leaked(worst) else f"by any of {paths} paths"
    what = f"connections left idle in a transaction or checked out {where}"
    return judge(BUG, leaked(worst), evidence, what=what, problems=problems)
