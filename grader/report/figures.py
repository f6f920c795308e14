"""How the reports write the load section's numbers: milliseconds, ratios, statuses, scenario set-ups.

Shared by report.md, report.html and the comparison page so that one figure reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader.report.model import Index, LoadScenario, Reference

# The load section's whole-scenario endpoint (grader.load.stats.TOTAL; not imported: that package pulls in
# the load generator, and rendering a report must stay light)
TOTAL = "all requests"
TIMES = "\u00d7"  # the multiplication sign after a ratio ("2.5 times the reference")
PERCENTILES = (("p50", "p50_ms"), ("p90", "p90_ms"), ("p95", "p95_ms"), ("p99", "p99_ms"), ("p99.9", "p999_ms"))
RATIO_NOTE = (
    f"candidate ÷ reference: latency above 1{TIMES} is slower than the reference, throughput below 1{TIMES} serves less"
)
FAULT_TEXT = {
    "db_latency_ms": "database +{:g} ms per round trip",
    "payments_latency_ms": "payments API +{:g} ms",
    "payments_503_share": "payments API answers 503 to {:.0%}",
    "payments_hang_share": "payments API hangs on {:.0%}",
}


def number(value: object) -> float | None:
    """A figure from the report, or None when it is missing or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def ms(value: object) -> str:
    shown = number(value)
    if shown is None:
        return "—"
    return f"{shown:,.1f}" if shown < 1000 else f"{shown:,.0f}"


def ratio(value: object) -> str:
    shown = number(value)
    if shown is None:
        return "—"
    if shown >= 100:
        return f"{shown:,.0f}{TIMES}"
    return f"{shown:.2f}{TIMES}" if shown < 10 else f"{shown:.1f}{TIMES}"


def rate(value: object) -> str:
    shown = number(value)
    return "—" if shown is None else f"{shown:,.1f}"


def score(value: object) -> str:
    shown = number(value)
    return "—" if shown is None else f"{shown:g}"


def is_success(status: str) -> bool:
    """2xx and 3xx answers; everything else (4xx, 5xx, `unfinished`, `error`) is listed by status."""
    return status[:1] in {"2", "3"} and status.isdigit()


def other_statuses(statuses: Mapping[str, Any]) -> dict[str, int]:
    """The answers that were not 2xx/3xx, by status. Some may be what a scenario expects (a 502 from a failing
    upstream), so the endpoint's `errors` count, not this, is what counts as an error."""
    return {str(k): int(v) for k, v in sorted(statuses.items()) if not is_success(str(k)) and number(v)}


def statuses_text(statuses: Mapping[str, Any]) -> str:
    return ", ".join(f"{status}: {count}" for status, count in other_statuses(statuses).items())


def setup_text(scenario: LoadScenario) -> str:
    """One line: the load model, its size, the window measured and the faults injected."""
    if scenario.model == "open":
        load = f"open model, {score(scenario.rate)} arrivals/s"
    else:
        stages = scenario.stages
        steps = " → ".join(f"{score(s.users)} from {score(s.at_s)} s" for s in stages)
        load = f"closed model, {score(scenario.users)} users" + (f" ({steps})" if len(stages) > 1 else "")
    window = f"{score(scenario.duration_s)} s, the first {score(scenario.warmup_s)} s warm-up"
    faults = [FAULT_TEXT[name].format(value) for name, value in scenario.faults.model_dump().items() if value]
    return "; ".join([load, window, ", ".join(faults) or "no faults"])


def provenance_text(reference: Reference | None) -> str:
    if reference is None:
        return "none"
    text = f"{reference.source}: {reference.note}".rstrip(": ")
    if reference.created_at:
        text += f" (measured {reference.created_at})"
    return text


def index_text(index: Index | None) -> str:
    if not index or not index.scenarios:
        return "no index: no valid scenario has a reference to compare with"
    figures = " · ".join(f"{key} {ratio(getattr(index, key))}" for key in ("throughput", "p50", "p95", "p99"))
    return f"{figures} (geometric mean over {index.scenarios} valid scenarios)"
