"""A whole grade with its load phase: the exercise against the reference, scenario by scenario."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from _grading import leftovers, private_tempdir
from _reports import assert_valid_report

from grader.load import LoadOptions, _hdr, load_scenarios
from grader.load.stats import TOTAL
from grader.pipeline import Options, run_grade

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
FAR_BEHIND = 3.0  # the exercise's worst figure, as a ratio to the reference's (measured: 5x to 30x and more)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:  # type: ignore[type-arg]
    out = tmp_path_factory.mktemp("load-grade") / "report"
    options = Options(seed=5, out=out, only=("n-plus-one",), load=LoadOptions(seed=5, reference="fresh"))
    with private_tempdir("grade-load-") as private_tmp:
        report, _ = run_grade(str(ROOT / "exercise"), options, say=lambda _: None)
        assert leftovers(private_tmp) == set(), "the grade left something behind"
    assert assert_valid_report(out / "report.json") == report
    return report, out


def test_every_scenario_ran_on_both_apps_and_is_valid(graded: tuple[dict, Path]) -> None:  # type: ignore[type-arg]
    """Each kit scenario ran against the exercise and the freshly run reference, with trustworthy generators."""
    report, _ = graded
    load = report["load"]
    assert load["status"] == "ran"
    assert load["reference"]["source"] == "fresh"
    assert [s["name"] for s in load["scenarios"]] == [s.name for s in load_scenarios()]
    for scenario in load["scenarios"]:
        assert scenario["valid"], (scenario["name"], scenario["invalid_reasons"])
        for side in ("candidate", "reference"):
            total = scenario[side]["endpoints"][TOTAL]
            assert total["samples"] >= 40, (scenario["name"], side, total)
            assert total["p50_ms"] <= total["p95_ms"] <= total["p99_ms"] <= total["max_ms"]


def test_the_exercise_is_far_behind_the_reference_in_every_scenario(graded: tuple[dict, Path]) -> None:  # type: ignore[type-arg]
    """In every scenario the exercise's latency or throughput is several times worse than the reference's."""
    report, _ = graded
    for scenario in report["load"]["scenarios"]:
        ratios = scenario["ratios"][TOTAL]
        slower = 1 / ratios["throughput"] if ratios["throughput"] else math.inf  # 0: nothing answered at all
        worst = max(ratios["p50"], ratios["p95"], slower)
        assert worst >= FAR_BEHIND, (scenario["name"], ratios)
    index = report["load"]["index"]
    assert index["p95"] >= FAR_BEHIND, index


def test_latency_json_holds_the_raw_histograms(graded: tuple[dict, Path]) -> None:  # type: ignore[type-arg]
    """latency.json decodes into histograms whose counts and percentiles are the report's."""
    report, out = graded
    latency = json.loads((out / "latency.json").read_text())
    assert latency["unit"] == "microseconds"
    for scenario in report["load"]["scenarios"]:
        for side in ("candidate", "reference"):
            histogram = _hdr.decode(latency["scenarios"][scenario["name"]][side][TOTAL])
            figures = scenario[side]["endpoints"][TOTAL]
            assert histogram.get_total_count() == figures["samples"]
            assert round(histogram.get_value_at_percentile(95) / 1000, 3) == figures["p95_ms"]
