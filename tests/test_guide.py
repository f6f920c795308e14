"""The reviewer's guide: safe notes, git history in numbers, a question per bug, claims against verdicts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from _cohort import NOTES, ROOT, make_cohort

from grader.catalogue import load_catalogue
from grader.guide import build_guide, guide_markdown, history, html_section, interview, read_notes
from grader.guide._fixes import changed_ranges, locations
from grader.guide._logs import tracebacks
from grader.guide._notes import notes_html
from grader.similarity import read_python

SAMPLE = json.loads((ROOT / "tests" / "data" / "report.json").read_text())


def test_every_catalogued_bug_has_questions_for_both_outcomes() -> None:
    """Each bug in the catalogue has a question for a fix and one for a miss, on one of the brief's topics."""
    questions, topics = interview()["bug"], set(interview()["topics"])
    for bug in load_catalogue().bugs:
        assert {"fixed", "present", "topic", "claims"} <= set(questions[bug.id]), bug.id
        assert questions[bug.id]["topic"] in topics, bug.id


def test_the_questions_cover_the_six_topics_of_the_brief() -> None:
    """Pool sizing, observability, incident response, latency, capacity and load testing are all asked."""
    assert {q["topic"] for q in interview()["bug"].values()} == set(interview()["topics"])
    assert len(interview()["topics"]) == 6


@pytest.mark.parametrize(
    ("markdown", "absent"),
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src="http://198.51.100.7/x.png">', "<img"),
        ("![pixel](http://198.51.100.7/x.png)", "<img"),
        ("[site](http://198.51.100.7/)", "<a "),
        ("<http://198.51.100.7/>", "<a "),
        ('<a href="javascript:alert(1)">x</a>', "<a "),
    ],
)
def test_notes_render_with_nothing_that_acts(markdown: str, absent: str) -> None:
    """Raw HTML, images and links in NOTES.md arrive as text: no script, no remote content, no link."""
    assert absent not in notes_html(markdown)


def test_notes_keep_their_formatting() -> None:
    """Headings, lists and code in NOTES.md still render as such."""
    html = notes_html("# Done\n\n- pooled\n- `await`ed\n")
    assert "<h1>Done</h1>" in html
    assert "<li>pooled</li>" in html
    assert "<code>await</code>" in html


def test_git_history_counts_the_work_after_the_starter(tmp_path: Path) -> None:
    """Commits, span and the largest commit's share are counted, the starter commit left out of the work."""
    apps = make_cohort(tmp_path)
    numbers = history(apps["alice"])
    assert numbers is not None
    assert numbers["commits"] == 3
    assert numbers["files_changed"] == 2  # app/payments.py and NOTES.md: the starter's files are not work
    assert 0.5 < numbers["largest_commit_share"] <= 1.0


def test_a_directory_without_git_has_no_history(tmp_path: Path) -> None:
    """Outside a repository, history says so rather than inventing numbers."""
    assert history(tmp_path) is None


def test_changed_ranges_are_lines_of_the_new_file() -> None:
    """A changed line and an inserted block are located by their line numbers in the submission."""
    assert sorted(changed_ranges("a\nb\nc\n", "a\nB\nc\nd\ne\n")) == [(2, 2), (4, 5)]


def test_fix_locations_point_into_the_bugs_file(tmp_path: Path) -> None:
    """A fix in the file the catalogue names is located there by line range."""
    apps = make_cohort(tmp_path)
    where = load_catalogue().bug("blocking-sleep").where
    found = locations(where, read_python(apps["alice"]), read_python(ROOT / "exercise"))
    assert found
    assert all(location.startswith("app/payments.py:") for location in found)


def _guide(notes: str | None, verdicts: dict[str, str]) -> dict:
    report = json.loads(json.dumps(SAMPLE))
    for bug in report["bugs"]:
        bug["verdict"] = verdicts.get(bug["id"], bug["verdict"])
    return build_guide(report, code={}, exercise={}, notes=notes, history=None, history_why="a directory")


@pytest.mark.parametrize(("verdict", "measured"), [("fixed", "confirmed"), ("present", "contradicted")])
def test_a_claim_in_the_notes_is_held_against_the_verdict(verdict: str, measured: str) -> None:
    """'Added retries' in NOTES.md is confirmed by a fixed verdict and contradicted by a present one."""
    guide = _guide("I added retries with stamina.", {"no-upstream-retry": verdict})
    [bug] = [b for b in guide["bugs"] if b["id"] == "no-upstream-retry"]
    assert bug["claims"] == [{"claim": "I added retries with stamina.", "measured": measured}]


def test_each_question_quotes_the_measurement() -> None:
    """A question is tied to the evidence: it carries the probe's own sentence."""
    guide = _guide(None, {})
    by_id = {b["id"]: b for b in guide["bugs"]}
    message = next(b["message"] for b in SAMPLE["bugs"] if b["verdict"] == "present")
    assert any(message in b["question"] for b in by_id.values())


def test_the_guide_escapes_what_the_candidate_wrote(tmp_path: Path) -> None:
    """NOTES.md and the app's log reach guide.md fenced and report.html escaped."""
    report = json.loads(json.dumps(SAMPLE))
    report["contract"]["cases"][0] |= {"outcome": "failed", "message": "<b>500</b>"}
    logs = {report["contract"]["cases"][0]["name"]: "Traceback ...\n<script>x</script>\n```\n"}
    guide = build_guide(report, code={}, exercise={}, notes=NOTES, history=None, case_logs=logs)
    html = html_section(guide)
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert "<b>500</b>" not in html
    markdown = guide_markdown(guide, "alice")
    assert "````text" in markdown  # the fence outgrows the backticks the log itself holds


def test_read_notes_is_bounded(tmp_path: Path) -> None:
    """A huge NOTES.md is cut, and the cut is said."""
    (tmp_path / "NOTES.md").write_text("x" * (200 * 1024))
    text, cut = read_notes(tmp_path)
    assert text is not None
    assert len(text) == 64 * 1024
    assert cut


def test_history_survives_a_repository_git_cannot_read(tmp_path: Path) -> None:
    """A broken .git gives no history, not a crash."""
    (tmp_path / ".git").write_text("gitdir: /nonexistent\n")
    assert history(tmp_path) is None
    assert subprocess.run(["git", "-C", str(tmp_path), "status"], capture_output=True, check=False).returncode != 0


def test_tracebacks_are_cut_at_their_exception_line() -> None:
    """A traceback in the app's log is kept up to its exception line, and no further."""
    block = ["Traceback (most recent call last):", "  File 'x.py', line 1", "    boom()", "ValueError: no"]
    assert tracebacks("\n".join(["INFO start", *block, "INFO next"])) == [block]
