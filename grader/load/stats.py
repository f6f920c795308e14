"""From a generator run's histograms to the figures a report shows: per endpoint, per second, valid or not."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from hdrh.histogram import HdrHistogram

from grader.load import _hdr
from grader.load.engine import GeneratorRun
from grader.load.scenario import LATE_MS, Scenario

TOTAL = "all requests"
MAX_GENERATOR_CPU = 90.0  # % of one core, mean over the measured window: beyond it the generator is the limit
MAX_LATE_SHARE = 0.05  # open model: arrivals sent more than LATE_MS after their time with a slot free
MIN_SAMPLES = 20
RATIO_KEYS = {"throughput": "throughput_rps", "p50": "p50_ms", "p95": "p95_ms", "p99": "p99_ms"}


def endpoint_figures(histogram: HdrHistogram, statuses: Counter[str], errors: int, seconds: float) -> dict[str, Any]:
    count = histogram.get_total_count()
    answered = count - statuses.get("unfinished", 0)  # cut off by the end of the run: no answer yet
    return {
        "requests": count,
        "errors": errors,
        "statuses": dict(sorted(statuses.items())),
        "throughput_rps": round(answered / seconds, 2) if seconds > 0 else None,
        **_hdr.summary(histogram),
    }


def summarise(scenario: Scenario, run: GeneratorRun) -> tuple[dict[str, Any], dict[str, Any]]:
    """(figures for report.json, raw histograms for latency.json) of one scenario run."""
    measured: dict[str, HdrHistogram] = defaultdict(_hdr.new)
    statuses: dict[str, Counter[str]] = defaultdict(Counter)
    errors: Counter[str] = Counter()
    per_second: dict[int, HdrHistogram] = defaultdict(_hdr.new)
    second_errors: Counter[int] = Counter()
    second_statuses: dict[int, Counter[str]] = defaultdict(Counter)
    for item in run.data["buckets"]:
        histogram = _hdr.decode(item["hdr"])
        per_second[item["s"]].add(histogram)
        second_errors[item["s"]] += item["errors"]
        second_statuses[item["s"]].update(item["statuses"])
        if not item["warmup"]:
            for name in (item["name"], TOTAL):
                measured[name].add(histogram)
                statuses[name].update(item["statuses"])
                errors[name] += item["errors"]
    seconds = scenario.measured_s
    endpoints = {
        name: endpoint_figures(measured[name], statuses[name], errors[name], seconds)
        for name in [r.name for r in scenario.requests if r.name in measured] + [TOTAL]
    }
    timeline = [
        {
            "t": second,
            "requests": per_second[second].get_total_count(),
            "errors": second_errors[second],
            "statuses": dict(second_statuses[second]),
            "p95_ms": round(per_second[second].get_value_at_percentile(95) / 1000, 3),
        }
        for second in sorted(per_second)
        if second < scenario.duration_s + 5
    ]
    reasons = invalid_reasons(scenario, run, endpoints[TOTAL]["requests"])
    figures = {
        "endpoints": endpoints,
        "timeline": timeline,
        "spectrum": _hdr.spectrum(measured[TOTAL]),
        "generator": {
            "processes": run.processes,
            "cpus": run.cpus,
            "cpu_percent": run.cpu_percent,
            "schedule": run.data.get("schedule", {}),
            "max_dispatch_lag_ms": round(run.data.get("max_lag_ms", 0.0), 2),
            "wall_s": run.wall_s,
        },
        "valid": not reasons,
        "invalid_reasons": reasons,
    }
    raw = {name: _hdr.encode(histogram) for name, histogram in measured.items()}
    return figures, raw


def invalid_reasons(scenario: Scenario, run: GeneratorRun, samples: int) -> list[str]:
    """Why the generator, not the app, may have set these numbers; empty when the run can be trusted."""
    reasons = []
    busiest = max(run.cpu_percent, default=None)
    if busiest is None:
        reasons.append("the generator's CPU could not be watched during the measured window")
    elif busiest >= MAX_GENERATOR_CPU:
        reasons.append(f"the load generator was saturated: {busiest:.0f}% CPU (limit {MAX_GENERATOR_CPU:.0f}%)")
    if scenario.model == "open":
        schedule = run.data.get("schedule", {})
        sent, late = schedule.get("sent", 0), schedule.get("late", 0)
        if sent and late / sent > MAX_LATE_SHARE:
            reasons.append(
                f"the generator fell short of the target rate: {late} of {sent} requests sent more than "
                f"{LATE_MS:g} ms after their time (limit {MAX_LATE_SHARE:.0%})"
            )
    if samples < MIN_SAMPLES:
        reasons.append(f"too few requests measured ({samples}, at least {MIN_SAMPLES})")
    return reasons


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """`ours / theirs` to 3 decimals; None when either is missing or `theirs` is 0."""
    return round(ours / theirs, 3) if ours is not None and theirs else None


def ratios(candidate: dict[str, Any], reference: dict[str, Any]) -> dict[str, float | None]:
    """Candidate over reference for throughput and p50/p95/p99 (latency: > 1 is slower; throughput: < 1 is less)."""
    return {key: ratio(candidate.get(name), reference.get(name)) for key, name in RATIO_KEYS.items()}
