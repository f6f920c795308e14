"""A load scenario's charts for report.html: latency spectrum, throughput and p95 per second, statuses."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from grader.report import figures as fig
from grader.report import svg
from grader.report.model import Endpoint, LoadScenario, Run, Second

CANDIDATE, REFERENCE = "#e4572e", "#1f6fb4"
NINES_TICKS = ((0.0, "0"), (math.log10(2), "50"), (1.0, "90"), (2.0, "99"), (3.0, "99.9"), (4.0, "99.99"))


def nines(percentile: float) -> float:
    """A percentile's place on a "nines" axis: 90 → 1, 99 → 2, 99.9 → 3."""
    return -math.log10(max(1 - percentile / 100, 1e-9))


def ms_label(value: float) -> str:
    return f"{value / 1000:.3g} s" if value >= 1000 else f"{value:.3g} ms"


def _sides(scenario: LoadScenario) -> list[tuple[str, str, Run]]:
    sides = [("candidate", CANDIDATE, scenario.candidate)]
    if scenario.reference:
        sides.append(("reference", REFERENCE, scenario.reference))
    return sides


def spectrum(chart_id: str, title: str, scenario: LoadScenario) -> str:
    """Latency at each percentile, the tail stretched out: the x axis counts nines, max at the right end."""
    series = []
    for label, colour, side in _sides(scenario):
        series.append((label, colour, list(side.spectrum)))
    finite = [nines(p) for _, _, points in series for p, _ in points if p < 100]
    right = max(4.0, math.ceil(max(finite, default=0.0)))
    lines = [
        svg.Line(label, colour, [(right + 0.5 if p >= 100 else nines(p), v) for p, v in points])
        for label, colour, points in series
    ]
    ticks = [(x, text) for x, text in NINES_TICKS if x <= right] + [(right + 0.5, "max")]
    return svg.line_chart(
        chart_id,
        title,
        lines,
        x_label="percentile (log scale of nines)",
        y_label="latency",
        x_ticks=ticks,
        y_format=ms_label,
    )


def _timeline(side: Run, end: float) -> list[Second]:
    """The seconds of the run (each request counted in the second it ended), without the partial one after the
    end, which holds the requests cut off unanswered."""
    return [t for t in side.timeline if t.t < end]


def throughput(chart_id: str, title: str, scenario: LoadScenario) -> str:
    """Requests answered in each second of the run: a second with none is a zero, not a gap."""
    end = scenario.duration_s or math.inf
    lines = []
    for label, colour, side in _sides(scenario):
        answered = {t.t: t.requests - t.statuses.get("unfinished", 0) for t in _timeline(side, end)}
        last = math.ceil(end) - 1 if math.isfinite(end) else max(answered, default=-1)
        seconds = range(0, last + 1) if answered else range(0)
        lines.append(svg.Line(label, colour, [(float(s), float(answered.get(s, 0))) for s in seconds]))
    return svg.line_chart(
        chart_id,
        title,
        lines,
        x_label="second of the run (when answered)",
        y_label="requests answered / s",
        y_log=False,
        shade=_warmup(scenario),
    )


def p95(chart_id: str, title: str, scenario: LoadScenario) -> str:
    """p95 latency of the requests answered in each second; a second with none is a gap."""
    end = scenario.duration_s or math.inf
    lines = []
    for label, colour, side in _sides(scenario):
        by_second = {t.t: t.p95_ms for t in _timeline(side, end)}
        seconds = range(min(by_second), max(by_second) + 1) if by_second else range(0)
        lines.append(svg.Line(label, colour, [(float(s), by_second.get(s)) for s in seconds]))
    return svg.line_chart(
        chart_id,
        title,
        lines,
        x_label="second of the run (when answered)",
        y_label="p95 latency",
        y_format=ms_label,
        shade=_warmup(scenario),
    )


def _warmup(scenario: LoadScenario) -> tuple[float, float, str] | None:
    warmup = scenario.warmup_s
    return (0.0, warmup, "warm-up") if warmup else None


def statuses(chart_id: str, title: str, scenario: LoadScenario) -> str:
    """Answers other than 2xx/3xx (and requests cut off unanswered), as a share of all requests sent."""
    shares: list[tuple[str, str, Mapping[str, int], float]] = []
    for label, colour, side in _sides(scenario):
        total = side.endpoints.get(fig.TOTAL) or Endpoint(requests=0, errors=0)
        shares.append((label, colour, fig.other_statuses(total.statuses), total.requests))
    codes: Sequence[str] = sorted({code for _, _, counts, _ in shares for code in counts})
    bars = [
        svg.Bars(
            label,
            colour,
            [100 * counts.get(code, 0) / requests if requests else None for code in codes],
            [str(counts.get(code, 0)) for code in codes],
        )
        for label, colour, counts, requests in shares
    ]
    return svg.bar_chart(
        chart_id,
        title,
        codes,
        bars,
        y_label="% of requests (count on bar)",
        y_log=False,
        empty="every request answered 2xx/3xx",
    )


Chart = Callable[[str, str, LoadScenario], str]
CHARTS: tuple[tuple[str, str, Chart], ...] = (
    ("spectrum", "Latency by percentile", spectrum),
    ("throughput", "Throughput per second", throughput),
    ("p95", "p95 latency per second", p95),
    ("statuses", "Not 2xx, by status", statuses),
)
