"""no-connection-pool: every request pays a PostgreSQL handshake; the proxy counts the connections.

A pool can be skipped on any route or error path, so the probe reads the tour of all of them
(grader/probes/_error_paths.py) and judges the path that opened the most new connections per 100
requests. A pool that takes far more connections than the app could use is no fix either: what the app
opened before its first request, and holds when quiet after the tour, must stay within SANE_POOL_MAX.
"""

from __future__ import annotations

from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._error_paths import Tour, tour_for

BUG = "no-connection-pool"
METRIC = "connections_per_100_requests"
SANE_POOL_MAX = 100  # a quarter of the server's 400 slots; the reference needs 20, its alternatives 16 to 20
MIN_SUCCESS_SHARE = 0.8


def probe(target: ProbeTarget) -> ProbeResult:
    tour = tour_for(target, BUG)
    evidence = {
        "opened_before_the_first_request": tour.startup_opened,
        "held_at_start_up": tour.startup_open,
        "held_when_quiet_after_the_tour": tour.idle_open,
        "most_held_at_once": tour.open_max,
        "paths": {path.name: path.as_dict() for path in tour.paths},
    }
    served = [path for path in tour.paths if path.expected in (200, 201)]
    failed = [p.name for p in served if p.samples.ok(p.expected) < MIN_SUCCESS_SHARE * max(p.requests, 1)]
    failed = [name for name in failed if not name.startswith("client disconnect")]
    if failed:
        return inconclusive(BUG, f"too few requests succeeded on {', '.join(failed)}", evidence)
    rates = _beyond_replacements(tour)
    worst = max(tour.paths, key=lambda path: rates[path.name])
    evidence["worst_path"] = worst.name
    evidence["new_per_100_beyond_leak_replacements"] = {name: round(rate, 1) for name, rate in rates.items()}
    problems = []
    held = max(tour.startup_opened, tour.startup_open, tour.idle_open)
    if held > SANE_POOL_MAX:
        problems.append(
            f"the app opened {tour.startup_opened} connections before its first request and holds "
            f"{tour.idle_open} when quiet (more than any sane pool: > {SANE_POOL_MAX})"
        )
    paths = len(tour.paths)
    where = f"on {worst.name} (worst of {paths} paths)" if rates[worst.name] else f"on any of {paths} paths"
    what = f"new database connections per 100 requests {where}"
    return judge(BUG, rates[worst.name], evidence, what=what, problems=problems)


def _beyond_replacements(tour: Tour) -> dict[str, float]:
    """Each path's new connections per 100 requests, less those replacing connections earlier paths leaked:
    a pool refills what a leak took (that is connection-leak-on-error's finding, not a missing pool)."""
    rates, leaked, replaced = {}, 0, 0
    for path in tour.paths:  # in the order the tour took them
        extra = round(path.new_per_100 * max(path.requests, 1) / 100)
        replacing = min(extra, leaked - replaced)
        replaced += replacing
        rates[path.name] = (extra - replacing) * 100 / max(path.requests, 1)
        leaked += path.leaked
    return rates
