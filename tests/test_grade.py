"""A whole grade, end to end: the exercise has every bug, the solution none, and nothing is left behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from _grading import grade_privately

from grader.catalogue import load_catalogue

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
BUG_IDS = load_catalogue().ids
RED_FLAGS = {flag.id for flag in load_catalogue().red_flags}  # the brief's six walk-away signs


def _grade(app: str, out: Path) -> Iterator[dict[str, Any]]:
    report = grade_privately(ROOT / app, out, name=app)
    yield report | {"_out": str(out)}


@pytest.fixture(scope="module")
def exercise_report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from _grade("exercise", tmp_path_factory.mktemp("exercise-report"))


@pytest.fixture(scope="module")
def solution_report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from _grade("solution", tmp_path_factory.mktemp("solution-report"))


def _bug(report: dict[str, Any], bug_id: str) -> dict[str, Any]:
    return next(bug for bug in report["bugs"] if bug["id"] == bug_id)


@pytest.mark.parametrize("bug_id", BUG_IDS)
def test_exercise_shows_every_bug(exercise_report: dict[str, Any], bug_id: str) -> None:
    """Each probe measures its symptom in the exercise."""
    bug = _bug(exercise_report, bug_id)
    assert bug["verdict"] == "present", f"{bug['message']} {bug['evidence']}"


@pytest.mark.parametrize("bug_id", BUG_IDS)
def test_solution_fixes_every_bug(solution_report: dict[str, Any], bug_id: str) -> None:
    """Each probe finds the reference solution fixed."""
    bug = _bug(solution_report, bug_id)
    assert bug["verdict"] == "fixed", f"{bug['message']} {bug['evidence']}"


def test_exercise_report_scores_zero_with_its_red_flags_first(exercise_report: dict[str, Any]) -> None:
    """The unfixed app scores 0 / no hire signal, passes the contract, and raises all six walk-away signs."""
    assert exercise_report["status"] == "graded"
    assert exercise_report["contract"]["failed"] == 0
    assert exercise_report["score"]["overall"] == 0
    assert exercise_report["score"]["scorecard"]["band"] == "no hire signal"
    assert {flag["id"] for flag in exercise_report["red_flags"]} == RED_FLAGS
    assert {flag["state"] for flag in exercise_report["red_flags"]} == {"present"}
    assert exercise_report["asyncio_debug"]["app_log"]["never_awaited"] == ["record_audit"]
    assert exercise_report["asyncio_debug"]["app_log"]["slow_callbacks"] > 0


def test_solution_report_scores_full_marks(solution_report: dict[str, Any]) -> None:
    """The reference passes the whole contract, scores 100 / strong in every category, and raises no flag; only
    the skipped load is left out of the score."""
    assert solution_report["contract"]["failed"] == 0
    assert solution_report["contract"]["passed"] == len(solution_report["contract"]["cases"])
    assert solution_report["score"]["overall"] == 100
    assert solution_report["score"]["scorecard"]["band"] == "strong"
    assert [row["id"] for row in solution_report["score"]["scorecard"]["left_out"]] == ["load"]
    assert all(c["score"] == 100 for c in solution_report["score"]["categories"].values())
    assert solution_report["red_flags"] == []


def test_report_files_follow_the_schema(
    exercise_report: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """report.json carries what downstream tools read; report.md and junit.xml sit beside it."""
    out = next(p for p in tmp_path_factory.getbasetemp().glob("exercise-report*"))
    on_disk = json.loads((out / "report.json").read_text())
    for key in (
        "schema_version",
        "status",
        "error",
        "submission",
        "environment",
        "contract",
        "bugs",
        "score",
        "red_flags",
        "phases",
    ):
        assert key in on_disk, key
    assert on_disk["schema_version"] == 1
    assert len(on_disk["submission"]["content_hash"]) == 64
    for key in ("grader_version", "kit_commit", "python", "packages", "cpu_model", "cores", "seed"):
        assert key in on_disk["environment"], key
    assert {bug["id"] for bug in on_disk["bugs"]} == set(BUG_IDS)
    for bug in on_disk["bugs"]:
        assert {"id", "category", "verdict", "evidence", "threshold", "value"} <= bug.keys()
    assert {phase["name"] for phase in on_disk["phases"]} >= {"submission", "infrastructure", "contract", "load"}
    assert "## Bugs" in (out / "report.md").read_text()
    suites = ET.parse(out / "junit.xml").getroot()
    assert sum(int(suite.get("tests", "0")) for suite in suites) == len(BUG_IDS) + len(on_disk["contract"]["cases"])
