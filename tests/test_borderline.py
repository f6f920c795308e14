"""The borderline rule: a value near its threshold is measured again and the majority decides."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader import pipeline
from grader.catalogue import load_catalogue
from grader.probes import ProbeResult, ProbeTarget
from grader.probes._base import judge
from grader.probes._borderline import band, measured

BUG = "blocking-sleep"  # present above 80 ms: the band is 56..104
THRESHOLD_ZERO = "no-input-validation"  # present above 0 (a count that must be 0)


class FakeProbe:
    """A probe returning chosen values (None: the probe could not measure), counting its runs."""

    def __init__(self, values: list[float | None], bug_id: str = BUG, integrity: tuple[str, ...] = ()) -> None:
        self.values: Iterator[float | None] = iter(values)
        self.bug_id = bug_id
        self.integrity = integrity
        self.runs = 0

    def __call__(self) -> ProbeResult:
        self.runs += 1
        value = next(self.values)
        if value is None:
            bug = load_catalogue().bug(self.bug_id)
            return ProbeResult(self.bug_id, "inconclusive", bug.metric, None, bug.threshold_text, "no measure", {})
        result = judge(self.bug_id, value, {"run": self.runs}, what="fake")
        result.integrity = list(self.integrity) if self.runs == 1 else []
        return result


def test_band_is_thirty_percent_around_the_threshold() -> None:
    """A threshold of 80 has the band 56..104."""
    assert band(BUG) == pytest.approx((56.0, 104.0))


@pytest.mark.parametrize(("bug_id", "relative"), [(THRESHOLD_ZERO, 0.3), (BUG, None)])
def test_no_band_for_a_zero_threshold_or_a_module_without_one(bug_id: str, relative: float | None) -> None:
    """A threshold of 0 (a count of events that must not happen) and `BAND = None` have no band."""
    assert band(bug_id, relative) is None


def test_a_value_outside_the_band_is_measured_once() -> None:
    """Far from the threshold: one reading, not marked borderline."""
    fake = FakeProbe([400.0])
    result = measured(BUG, fake)
    assert (fake.runs, result.verdict, "borderline" in result.evidence) == (1, "present", False)


def test_two_agreeing_readings_end_the_re_measuring() -> None:
    """90 then 100 (both present): the majority is reached after one re-measurement."""
    fake = FakeProbe([90.0, 100.0, 10.0, 10.0])
    result = measured(BUG, fake)
    assert fake.runs == 2
    assert result.verdict == "present"
    assert [r["value"] for r in result.evidence["readings"]] == [90.0, 100.0]


def test_the_majority_decides_against_the_first_reading() -> None:
    """90 (present), 70 and 60 (fixed): fixed, with every reading kept and the message saying so."""
    fake = FakeProbe([90.0, 70.0, 60.0])
    result = measured(BUG, fake)
    assert (fake.runs, result.verdict, result.evidence["borderline"]) == (3, "fixed", True)
    assert [r["verdict"] for r in result.evidence["readings"]] == ["present", "fixed", "fixed"]
    assert result.message.startswith("borderline")
    assert "2 fixed, 1 present" in result.message


def test_the_result_is_the_median_reading_of_the_majority() -> None:
    """Of the agreeing readings 60 and 70 (fixed), the lower median 60 is the value reported."""
    result = measured(BUG, FakeProbe([90.0, 70.0, 60.0]))
    assert result.value == 60.0


def test_an_inconclusive_reading_takes_a_fourth_one() -> None:
    """90 (present), 70 (fixed), unmeasured: a third re-measurement, 95, makes present the majority."""
    fake = FakeProbe([90.0, 70.0, None, 95.0])
    result = measured(BUG, fake)
    assert (fake.runs, result.verdict) == (4, "present")


def test_re_measuring_stops_when_no_time_is_left() -> None:
    """With no time for another reading, the borderline reading alone decides, and the message says why."""
    fake = FakeProbe([90.0, 10.0])
    result = measured(BUG, fake, time_left=lambda: 0.0)
    assert (fake.runs, result.verdict) == (1, "present")
    assert "no time left" in result.message


def test_a_tie_when_time_runs_out_is_inconclusive() -> None:
    """90 (present) and 70 (fixed), then no time: no majority, inconclusive."""
    left = iter([100.0, 0.0])
    result = measured(BUG, FakeProbe([90.0, 70.0]), time_left=lambda: next(left))
    assert result.verdict == "inconclusive"
    assert "no majority" in result.message


def test_a_failing_re_measurement_is_an_inconclusive_reading() -> None:
    """A re-measurement that raises is counted as inconclusive, and the grade goes on."""
    values: list[Callable[[], ProbeResult]] = [FakeProbe([90.0]), _raises, FakeProbe([95.0])]
    calls = iter(values)

    def run() -> ProbeResult:
        return next(calls)()

    result = measured(BUG, run)
    assert result.verdict == "present"
    assert [r["verdict"] for r in result.evidence["readings"]] == ["present", "inconclusive", "present"]


def _raises() -> ProbeResult:
    raise RuntimeError("the app did not start")


def test_integrity_findings_of_any_reading_are_kept_beside_the_measured_verdict() -> None:
    """A finding (work reported but not done) in one reading is kept and said; the entry's own numbers decide."""
    result = measured(BUG, FakeProbe([70.0, 60.0, 65.0], integrity=("2 orders answered 201 without a charge",)))
    assert result.verdict == "fixed"
    assert result.integrity == ["2 orders answered 201 without a charge"]
    assert "reports work it did not do" in result.message


def test_integrity_findings_decide_the_entries_they_answer() -> None:
    """A made-up charge while the provider hangs is the timeout faked: present, whatever the count says."""
    fake = FakeProbe([0.0], bug_id="no-upstream-timeout", integrity=("1 order answered 201 without a charge",))
    assert measured("no-upstream-timeout", fake).verdict == "present"


@pytest.mark.slow
def test_a_real_probe_in_its_band_is_re_measured_on_fresh_deployments(
    solution: ProbeTarget, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The metrics probe, given a band that holds the solution's 30: measured twice, two deployments, fixed."""
    monkeypatch.setattr(pipeline, "band_of", lambda _: 0.3)
    deployments: list[str] = []
    deploy = ProbeTarget.deploy

    def counting(self: ProbeTarget, **kwargs: object):  # type: ignore[no-untyped-def]
        deployments.append("one")
        return deploy(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ProbeTarget, "deploy", counting)
    result = pipeline._probe(pipeline.Grade(pipeline.Options(seed=1)), solution, "no-request-metrics")
    assert result.verdict == "fixed"
    assert result.evidence["borderline"] is True
    assert [r["value"] for r in result.evidence["readings"]] == [30.0, 30.0]
    assert len(deployments) == 2
