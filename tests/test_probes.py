"""Every catalogued bug: its probe finds it in the exercise and not in the reference solution."""

from __future__ import annotations

import pytest

from grader.catalogue import load_catalogue
from grader.probes import ProbeTarget, probe_for

pytestmark = pytest.mark.slow
BUG_IDS = load_catalogue().ids


@pytest.mark.parametrize("bug_id", BUG_IDS)
def test_probe_finds_the_bug_in_the_exercise(exercise: ProbeTarget, bug_id: str) -> None:
    """The exercise shows the symptom, measured."""
    result = probe_for(bug_id)(exercise)
    assert result.verdict == "present", f"{result.message} {result.evidence}"


@pytest.mark.parametrize("bug_id", BUG_IDS)
def test_probe_finds_the_solution_fixed(solution: ProbeTarget, bug_id: str) -> None:
    """The reference solution does not show the symptom."""
    result = probe_for(bug_id)(solution)
    assert result.verdict == "fixed", f"{result.message} {result.evidence}"
