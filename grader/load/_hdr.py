"""HDR histograms of latency in microseconds: made, encoded, merged and summarised the same way everywhere."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 600_000_000  # ten minutes: nothing a scenario measures is longer
DIGITS = 3  # 0.1 % precision at every magnitude
PERCENTILES = {"p50_ms": 50.0, "p90_ms": 90.0, "p95_ms": 95.0, "p99_ms": 99.0, "p999_ms": 99.9}


def new() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def record_ms(histogram: HdrHistogram, milliseconds: float) -> None:
    histogram.record_value(min(HIGHEST_US, max(LOWEST_US, round(milliseconds * 1000))))


def encode(histogram: HdrHistogram) -> str:
    encoded: bytes = histogram.encode()
    return encoded.decode("ascii")


def decode(encoded: str) -> HdrHistogram:
    histogram: HdrHistogram = HdrHistogram.decode(encoded.encode("ascii"))
    return histogram


def merged(encoded: Iterable[str]) -> HdrHistogram:
    total = new()
    for text in encoded:
        total.decode_and_add(text.encode("ascii"))
    return total


def summary(histogram: HdrHistogram) -> dict[str, Any]:
    """Percentiles and max in milliseconds (to the microsecond), with the sample count beside them."""
    count = histogram.get_total_count()
    figures: dict[str, Any] = {"samples": count}
    for key, percentile in PERCENTILES.items():
        figures[key] = round(histogram.get_value_at_percentile(percentile) / 1000, 3) if count else None
    figures["max_ms"] = round(histogram.get_max_value() / 1000, 3) if count else None
    figures["mean_ms"] = round(histogram.get_mean_value() / 1000, 3) if count else None
    return figures


def spectrum(histogram: HdrHistogram) -> list[list[float]]:
    """(percentile, ms) points for a percentile-spectrum chart, denser towards the tail."""
    if not histogram.get_total_count():
        return []
    points = []
    for nines in (0, 0.301, 0.5, 0.699, 0.824, 1, 1.301, 1.5, 1.699, 2, 2.301, 2.5, 2.699, 3, 3.5, 4):
        percentile = 100 - 100 / 10**nines if nines else 0.0
        points.append([round(percentile, 4), round(histogram.get_value_at_percentile(percentile) / 1000, 3)])
    points.append([100.0, round(histogram.get_max_value() / 1000, 3)])
    return points
