"""Charts as inline SVG drawn in Python: lines and grouped bars over linear or log axes.

No script and nothing fetched: a report must open offline, years later, from an archive. Every text that
reaches the SVG is escaped here, so callers may pass whatever a report holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 520, 250
LEFT, RIGHT, TOP, BOTTOM = 62, 14, 12, 40
GRID, AXIS, INK, SHADE = "#e6e6e6", "#9a9a9a", "#444444", "#efefef"
NOTES_FROM_WIDTH = 22  # px per bar: narrower, the text over neighbouring bars would overlap
MARKERS_UP_TO = 40  # points per line: beyond this, dots would hide the line

Format = Callable[[float], str]


def plain(value: float) -> str:
    """A tick label: 0.5, 20, 1.5k, 2M."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


@dataclass(frozen=True)
class Line:
    label: str
    colour: str
    points: Sequence[tuple[float, float | None]]  # y None: no figure there, the line breaks


@dataclass(frozen=True)
class Bars:
    label: str
    colour: str
    values: Sequence[float | None]  # one per category; None: no bar
    notes: Sequence[str] = ()  # text over each bar


@dataclass(frozen=True)
class Scale:
    lo: float
    hi: float
    log: bool

    def at(self, value: float) -> float:
        """Where `value` sits along the axis, 0 (lo) to 1 (hi), clamped."""
        if self.log:
            value = max(value, self.lo)
            share = (math.log10(value) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            share = (value - self.lo) / (self.hi - self.lo)
        return min(max(share, 0.0), 1.0)

    def ticks(self) -> list[float]:
        if self.log:
            first, last = math.floor(math.log10(self.lo)), math.ceil(math.log10(self.hi))
            steps = (1, 2, 5) if last - first <= 3 else (1,)
            found = [m * 10.0**e for e in range(first, last + 1) for m in steps]
            return [v for v in found if self.lo * 0.999 <= v <= self.hi * 1.001]
        step = _nice_step((self.hi - self.lo) / 5)
        count = round((self.hi - self.lo) / step)
        return [self.lo + i * step for i in range(count + 1)]


def _nice_step(raw: float) -> float:
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * 0.999)


def scale_for(values: Sequence[float], *, log: bool | None = None, include: Sequence[float] = ()) -> Scale:
    """An axis covering `values` (and `include`): log when asked, or when asked None and they span over 30 times."""
    shown = [v for v in [*values, *include] if math.isfinite(v)]
    positive = [v for v in shown if v > 0]
    if log is None:
        log = bool(positive) and max(positive) / min(positive) > 30
    if log and positive:
        low, high = min(positive), max(positive)
        lo, hi = 10.0 ** math.floor(math.log10(low)), 10.0 ** math.ceil(math.log10(high))
        for m in (2, 5):  # tighter bounds where the data leaves room: more plot, fewer empty decades
            lo = m * lo if m * lo <= low else lo
        for m in (5, 2):
            hi = hi / m if hi / m >= high else hi
        return Scale(lo, hi if hi > lo else lo * 10, log=True)
    high = max(shown, default=1.0)
    low = min(0.0, *shown) if shown else 0.0
    if high <= low:
        high = low + 1.0
    step = _nice_step((high - low) / 5)
    return Scale(math.floor(low / step) * step, math.ceil(high / step) * step, log=False)


class _Frame:
    """The plot area inside an SVG of WIDTH by HEIGHT, and the axes' drawing."""

    def __init__(self, x: Scale, y: Scale) -> None:
        self.x, self.y = x, y
        self.width, self.height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(self, value: float) -> float:
        return LEFT + self.x.at(value) * self.width

    def py(self, value: float) -> float:
        return TOP + (1 - self.y.at(value)) * self.height

    def y_axis(self, label: str, fmt: Format) -> list[str]:
        parts = []
        for tick in self.y.ticks():
            y = self.py(tick)
            parts.append(f'<line x1="{LEFT}" x2="{LEFT + self.width}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
            parts.append(_text(LEFT - 6, y + 4, fmt(tick), anchor="end"))
        middle = TOP + self.height / 2
        parts.append(
            f'<text x="14" y="{middle:.1f}" transform="rotate(-90 14 {middle:.1f})" text-anchor="middle" '
            f'fill="{INK}">{escape(label)}</text>'
        )
        return parts

    def x_axis(self, label: str, ticks: Sequence[tuple[float, str]]) -> list[str]:
        bottom = TOP + self.height
        parts = [f'<line x1="{LEFT}" x2="{LEFT + self.width}" y1="{bottom}" y2="{bottom}" stroke="{AXIS}"/>']
        for value, text in ticks:
            x = self.px(value)
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="{AXIS}"/>')
            parts.append(_text(x, bottom + 16, text, anchor="middle"))
        parts.append(_text(LEFT + self.width / 2, HEIGHT - 4, label, anchor="middle"))
        return parts


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{INK}">{escape(text)}</text>'


def _svg(chart_id: str, title: str, body: Sequence[str]) -> str:
    return (
        f'<svg id="{escape(chart_id)}" class="chart" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'font-family="system-ui, sans-serif" font-size="11"><title>{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def _empty(chart_id: str, title: str, message: str) -> str:
    box = f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" '
    box += f'fill="none" stroke="{GRID}"/>'
    return _svg(chart_id, title, [box, _text(WIDTH / 2, HEIGHT / 2, message, anchor="middle", size=13)])


def line_chart(
    chart_id: str,
    title: str,
    lines: Sequence[Line],
    *,
    x_label: str,
    y_label: str,
    x_ticks: Sequence[tuple[float, str]] | None = None,
    y_log: bool | None = None,
    y_format: Format = plain,
    shade: tuple[float, float, str] | None = None,
) -> str:
    """Lines over a shared x axis; `shade` greys a span of x (from, to, label), e.g. the warm-up."""
    xs = [x for line in lines for x, y in line.points if y is not None]
    ys = [y for line in lines for _, y in line.points if y is not None]
    if not ys:
        return _empty(chart_id, title, "no data")
    y_scale = scale_for(ys, log=y_log)
    low, high = min(xs), max(xs)
    x_scale = Scale(low, high if high > low else low + 1, log=False)
    frame = _Frame(x_scale, y_scale)
    body: list[str] = []
    if shade is not None and shade[1] > low:
        left, right = frame.px(max(shade[0], low)), frame.px(min(shade[1], high))
        body.append(
            f'<rect x="{left:.1f}" y="{TOP}" width="{right - left:.1f}" height="{frame.height}" fill="{SHADE}"/>'
        )
        body.append(_text(left + 4, TOP + 12, shade[2]))
    body += frame.y_axis(y_label, y_format)
    ticks = x_ticks if x_ticks is not None else [(t, plain(t)) for t in Scale(low, x_scale.hi, log=False).ticks()]
    body += frame.x_axis(x_label, [(value, text) for value, text in ticks if low <= value <= x_scale.hi])
    for line in lines:
        body += _polyline(frame, line)
    return _svg(chart_id, title, body)


def _polyline(frame: _Frame, line: Line) -> list[str]:
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in line.points:
        if y is None:
            runs.append([])
        else:
            runs[-1].append((frame.px(x), frame.py(y)))
    parts = []
    label = escape(line.label)
    for run in runs:
        if len(run) > 1:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(
                f'<polyline class="series" data-series="{label}" points="{points}" fill="none" '
                f'stroke="{line.colour}" stroke-width="2.5" stroke-linejoin="round"/>'
            )
    if len(line.points) <= MARKERS_UP_TO:
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{line.colour}"/>' for run in runs for x, y in run]
    return parts


def bar_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    bars: Sequence[Bars],
    *,
    y_label: str,
    y_log: bool | None = None,
    y_format: Format = plain,
    baseline: float | None = None,
    empty: str = "no data",
) -> str:
    """Grouped bars, one group per category. On a log axis the bars grow from `baseline` (1 for ratios: up is
    above it, down below), else from zero."""
    values = [v for series in bars for v in series.values if v is not None and math.isfinite(v)]
    if not categories or not values or (y_log and not any(v > 0 for v in values)):
        return _empty(chart_id, title, empty)
    include = [baseline] if baseline is not None else []
    y_scale = scale_for(values, log=y_log, include=include if y_log else [0.0])
    frame = _Frame(Scale(0, len(categories), log=False), y_scale)
    base = baseline if baseline is not None else (y_scale.lo if y_scale.log else 0.0)
    body = frame.y_axis(y_label, y_format)
    body += frame.x_axis("", [])
    group = frame.width / len(categories)
    bar_width = min(36.0, group * 0.8 / max(len(bars), 1))
    for index, category in enumerate(categories):
        left = LEFT + index * group + (group - bar_width * len(bars)) / 2
        for number, series in enumerate(bars):
            value = series.values[index] if index < len(series.values) else None
            if value is None or not math.isfinite(value):
                continue
            x = left + number * bar_width
            top, bottom = sorted((frame.py(value), frame.py(base)))
            height = max(bottom - top, 1.5)  # a zero still shows as a sliver, unlike a missing figure
            body.append(
                f'<rect class="bar" data-series="{escape(series.label)}" x="{x:.1f}" y="{top:.1f}" '
                f'width="{bar_width - 2:.1f}" height="{height:.1f}" fill="{series.colour}"/>'
            )
            if index < len(series.notes) and series.notes[index] and bar_width >= NOTES_FROM_WIDTH:
                body.append(_text(x + bar_width / 2 - 1, top - 3, series.notes[index], anchor="middle", size=10))
        centre = LEFT + (index + 0.5) * group
        shown = category if len(category) <= 18 else category[:17] + "…"
        body.append(_text(centre, TOP + frame.height + 16, shown, anchor="middle"))
    if baseline is not None:
        y = frame.py(baseline)
        body.append(
            f'<line x1="{LEFT}" x2="{LEFT + frame.width}" y1="{y:.1f}" y2="{y:.1f}" stroke="{INK}" '
            'stroke-dasharray="4 3"/>'
        )
    return _svg(chart_id, title, body)
