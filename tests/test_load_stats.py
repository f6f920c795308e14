"""The load section's summary figures: ratios to the reference and their index across scenarios."""

from __future__ import annotations

from typing import Any

import pytest

from grader.load.phase import indices
from grader.load.stats import TOTAL, ratios


def _entry(valid: bool, **total: float | None) -> dict[str, Any]:
    return {"valid": valid, "ratios": {TOTAL: {"throughput": None, "p50": None, "p95": None, "p99": None, **total}}}


def test_ratios_are_candidate_over_reference() -> None:
    """Latency ratios above 1 mean slower, throughput ratios below 1 mean less; a zero reference gives None."""
    shown = ratios({"throughput_rps": 50.0, "p50_ms": 30.0, "p95_ms": 90.0, "p99_ms": None},
                   {"throughput_rps": 500.0, "p50_ms": 3.0, "p95_ms": 0.0, "p99_ms": 10.0})  # fmt: skip
    assert shown == {"throughput": 0.1, "p50": 10.0, "p95": None, "p99": None}


def test_the_index_is_the_geometric_mean_of_the_valid_scenarios() -> None:
    """Two valid scenarios at 4x and 16x give 8x; an invalid one is left out, not averaged in."""
    index = indices([_entry(True, p95=4.0), _entry(True, p95=16.0), _entry(False, p95=1000.0)])
    assert index["p95"] == pytest.approx(8.0)
    assert index["scenarios"] == 2


def test_a_scenario_with_nothing_answered_sinks_the_throughput_index() -> None:
    """A throughput ratio of 0 (nothing answered) makes the index 0 rather than being skipped."""
    index = indices([_entry(True, throughput=0.5), _entry(True, throughput=0.0)])
    assert index["throughput"] == 0.0
    assert indices([_entry(False, throughput=0.5)])["throughput"] is None
