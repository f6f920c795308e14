"""Feedback a candidate may see: symptoms in their brief's words, their own numbers, nothing hidden."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _cohort import ROOT

from grader.catalogue import load_catalogue
from grader.feedback import content, render_html, render_markdown
from grader.kit.leaks import find_leaks, forbidden

SAMPLE = json.loads((ROOT / "tests" / "data" / "report.json").read_text())


def _with(verdict: str) -> dict:
    report = json.loads(json.dumps(SAMPLE))
    for bug in report["bugs"]:
        bug["verdict"] = verdict
    return report


@pytest.mark.parametrize("verdict", ["fixed", "present", "inconclusive"])
def test_feedback_passes_the_kits_leak_check(tmp_path: Path, verdict: str) -> None:
    """Neither page names a bug id, a test, a threshold or a sentence of the catalogue."""
    (tmp_path / "feedback.md").write_text(render_markdown(_with(verdict)))
    (tmp_path / "feedback.html").write_text(render_html(_with(verdict)))
    assert find_leaks(tmp_path, forbidden(ROOT)) == []


def test_every_bug_is_spoken_of_in_its_category() -> None:
    """Each catalogued bug adds one line to its category, whatever its verdict."""
    made = content(SAMPLE)
    counts = {c["name"]: len(c["held"]) + len(c["failed"]) + len(c["unknown"]) for c in made["categories"]}
    catalogue = load_catalogue()
    assert counts == {name: sum(b.category == name for b in catalogue.bugs) for name in catalogue.categories}


def test_the_candidates_own_load_figures_are_shown_without_the_reference() -> None:
    """Their p95 per scenario is there; no figure of the reference run is."""
    page = render_markdown(SAMPLE)
    scenario = SAMPLE["load"]["scenarios"][0]
    own = scenario["candidate"]["endpoints"]["all requests"]["p95_ms"]
    reference = scenario["reference"]["endpoints"]["all requests"]["p95_ms"]
    assert f"{own:.0f}" in page
    assert f"| {reference:.0f} |" not in page


def test_html_feedback_escapes_the_submission_name() -> None:
    """A name chosen by the candidate cannot inject markup into the page."""
    report = json.loads(json.dumps(SAMPLE))
    report["submission"]["name"] = "<script>x</script>"
    assert "<script>" not in render_html(report)
