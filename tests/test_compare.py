"""`make compare`: rankings by scorecard and by normalised latency, incomparable kits kept apart, bad input
refused on one line, and the page's charts drawn in a real headless Chromium."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _browser import Browser, chromium, pixels_near

from grader.catalogue import load_catalogue
from grader.compare import model, render
from grader.compare.inputs import Loaded
from grader.report.model import Report as ReportModel

SAMPLE = Path(__file__).parent / "data" / "report.json"  # a real grade's report, trimmed to two scenarios
BASE: dict[str, Any] = json.loads(SAMPLE.read_text())
Report = dict[str, Any]


# bugs no red flag covers, 36.6 of the 100 points: with the sample's load (5.7 points lost) the rest is mixed
PLAIN = tuple(bug.id for bug in load_catalogue().bugs if not bug.red_flag)


def _report(
    name: str, present: tuple[str, ...] = (), *, error: bool = False, tampering: int = 0, p95: float | None = 2.0
) -> Report:
    """The sample, renamed, every bug fixed but those `present`, with tampering attempts (each a red flag that
    caps the band at mixed) and a load index p95 (None: no valid scenario). Compare recomputes the score."""
    report = copy.deepcopy(BASE)
    report["submission"]["name"] = name
    report["options"]["only"] = []
    for bug in report["bugs"]:
        bug["verdict"] = "present" if bug["id"] in present else "fixed"
    if error:
        report |= {"status": "error", "error": "the app does not start", "score": None}
    attempt = {"kind": "connection-exhaustion", "seen": "PostgreSQL", "count": 1}
    report["tampering"] = [attempt | {"what": f"attempt {i}"} for i in range(tampering)]
    report["load"]["index"]["p95"] = p95
    if p95 is None:
        report["load"]["index"] |= {"throughput": None, "p50": None, "p99": None, "scenarios": 0}
    return report


def _candidates(*reports: Report) -> list[model.Candidate]:
    return model.candidates(
        [Loaded(Path(f"/grades/{i}/report.json"), ReportModel.model_validate(r)) for i, r in enumerate(reports)]
    )


def _order(ranked: model.Ranked) -> list[tuple[int | None, str]]:
    return [(rank, candidate.label) for rank, candidate in ranked]


def test_ranked_by_score_then_red_flags_with_an_errored_grade_last() -> None:
    """Higher score first; equal scores: fewer red flags first, equal both: a shared rank; no score: unranked."""
    given = _candidates(
        _report("ann", PLAIN), _report("bob"), _report("cat", PLAIN, tampering=1), _report("dan", error=True),
        _report("eve", PLAIN),
    )  # fmt: skip
    assert _order(model.by_score(given)) == [(1, "bob"), (2, "ann"), (2, "eve"), (4, "cat"), (None, "dan")]


def test_integrity_ranks_below_an_honest_partial_fix() -> None:
    """A near-complete submission that reports work it did not do ranks last, whatever its score."""
    faker = _report("faker", ("no-upstream-timeout",))
    next(bug for bug in faker["bugs"] if bug["id"] == "no-upstream-timeout")["integrity"] = ["201 without a charge"]
    given = _candidates(faker, _report("honest", (*PLAIN, "sync-db-driver")))
    assert _order(model.by_score(given)) == [(1, "honest"), (2, "faker")]
    text, page = render.markdown(model.groups(given), "now"), render.html(model.groups(given), "now")
    assert "Reports work it did not do (no-upstream-timeout: 201 without a charge)" in text
    assert text.index("### Red flags") < text.index("### Ranked by scorecard")  # red flags first
    assert page.index('class="banner red-flags"') < page.index("<h3>Ranked by scorecard</h3>")


def test_scores_are_recomputed_from_the_facts_not_read() -> None:
    """A stored score (here a forged 100) is ignored: the verdicts decide, with this grader's catalogue."""
    forged = _report("forged", PLAIN)
    forged["score"] = {"overall": 100.0, "categories": {}}
    [candidate] = _candidates(forged)
    assert candidate.overall == 49.3
    assert load_catalogue().scoring_version in render.markdown(model.groups([candidate]), "now")


def test_ranked_by_normalised_latency_lower_p95_index_first() -> None:
    """Lowest load index p95 first (lower is better); no index is unranked, last, with the reason."""
    given = _candidates(_report("ann", p95=3.0), _report("bob", p95=1.5), _report("cat", p95=None))
    assert _order(model.by_latency(given)) == [(1, "bob"), (2, "ann"), (None, "cat")]
    assert render.latency_note(given[2]) == "no valid scenario"
    skipped = _report("dan")
    skipped["load"] = {"status": "skipped", "reason": "--skip-load"}
    assert render.latency_note(_candidates(skipped)[0]) == "load skipped: --skip-load"


def test_reports_from_different_kits_are_grouped_apart_and_marked() -> None:
    """Another kit version, grader version or scenario set: its own group, flagged not comparable, never mixed."""
    other_kit, other_grader, other_set = _report("kit"), _report("grader"), _report("set")
    other_kit["load"]["reference"]["kit_version"]["scenarios"] = "0000000000000000"
    other_grader["environment"]["grader_version"] = "0.2.0"
    other_set["load"]["scenario_set"] = ["catalogue-reads"]
    given = _candidates(_report("ann"), other_kit, _report("bob"), other_grader, other_set)
    groups = model.groups(given)
    assert [[c.label for c in g.candidates] for g in groups] == [["ann", "bob"], ["kit"], ["grader"], ["set"]]
    text = render.markdown(groups, "now")
    assert "**Not comparable across groups.**" in text
    assert "## Group 2 of 4: not comparable with group 1" in text
    page = render.html(groups, "now")
    assert 'id="not-comparable"' in page
    assert page.count("not comparable with group 1</span>") == 3
    alone = model.groups(_candidates(_report("ann"), _report("bob")))
    assert len(alone) == 1
    assert "Not comparable" not in render.markdown(alone, "now")


def test_the_markdown_table_has_scores_flags_and_per_scenario_ratios() -> None:
    """Per-category scores, red flag counts, the p95 index and each scenario's p95/throughput ratios."""
    deadlocks = ("sync-db-driver", "sync-bridge-deadlock")
    ann, bob = _report("ann", ("no-input-validation",), p95=1.2), _report("<b>bob</b>", deadlocks, p95=5.0)
    ann["load"]["scenarios"][1]["valid"] = False
    text = render.markdown(model.groups(_candidates(ann, bob)), "now")
    rows = [line for line in text.splitlines() if line.startswith("| 1 | ann |")]
    # categories in the catalogue's order: Async, Database, System Design, Performance, Monitoring
    old = "; graded with scoring version before weights"  # the sample predates them
    figures = "| 100 | 100 | 54.5 | 77 | 100 | 0 | 3 passed, 0 failed | 1.20"
    assert rows[0].startswith(f"| 1 | ann | strong | 89.7{old} {figures}")
    assert f"| 2 | &lt;b&gt;bob&lt;/b&gt; | mixed | 77.6{old} |" in text  # a name is text, not markup
    assert "| `degraded-upstream` | ⚠️ invalid: p95 0.81" in text
    flags = "Sync database driver in async endpoints; .result() / .wait() used so that it deadlocks"
    assert f"- **&lt;b&gt;bob&lt;/b&gt;**: {flags}" in text


def test_two_grades_of_one_name_are_told_apart_by_directory() -> None:
    """Two reports named alike get their directories in their labels."""
    labels = [c.label for c in _candidates(_report("exercise"), _report("exercise"), _report("bob"))]
    assert labels == ["exercise (0)", "exercise (1)", "bob"]


def _compare(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader.compare", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def _write(directory: Path, report: object) -> Path:
    directory.mkdir(parents=True)
    (directory / "report.json").write_text(json.dumps(report) if not isinstance(report, str) else report)
    return directory


def test_cli_expands_a_quoted_glob_and_prints_both_paths(tmp_path: Path) -> None:
    """A glob reaches the program unexpanded and still works; the page and the table are written and named."""
    _write(tmp_path / "grades" / "ann", _report("ann"))
    _write(tmp_path / "grades" / "bob", _report("bob"))
    (tmp_path / "grades" / "notes").mkdir()  # matched by the glob, holds no report: passed over
    done = _compare("grades/*", "--out", "cmp", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["cmp/compare.html", "cmp/compare.md"]
    assert "passed over grades/notes: no report.json" in done.stderr
    assert "| 1 | ann |" in (tmp_path / "cmp" / "compare.md").read_text()
    assert (tmp_path / "cmp" / "compare.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: ["missing"], "missing: no such file or directory"),
        (lambda tmp: [(tmp / "empty").mkdir() or "empty"], "empty: no report.json in this directory"),
        (lambda tmp: [_write(tmp / "bad", "{not json").name], "not valid JSON (line 1: "),
        (lambda tmp: [_write(tmp / "list", [1, 2]).name], "not a grader report"),
        (lambda tmp: [_write(tmp / "other", {"name": "x"}).name], "not a grader report"),
        (lambda tmp: [_write(tmp / "v9", _report("a") | {"schema_version": 9}).name], "schema_version 9"),
        (
            lambda tmp: [_write(tmp / "typed", _report("a") | {"score": {"overall": "high"}}).name],
            "malformed report: score.overall is not float",
        ),
        (
            lambda tmp: [_write(tmp / "noload", {k: v for k, v in _report("a").items() if k != "load"}).name],
            "malformed report: no load",
        ),
        (lambda tmp: ["nothing-here-*"], "nothing-here-*: matches no directory holding a report.json"),
        (lambda tmp: [], "the following arguments are required: reports"),
    ],
    ids=[
        "missing",
        "no-report",
        "bad-json",
        "json-list",
        "foreign-json",
        "schema",
        "bad-type",
        "no-load",
        "glob",
        "none",
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path, make: Any, reason: str) -> None:
    """Whatever is wrong with the input: exit 2, one line on stderr naming it, no traceback, no output written."""
    args = make(tmp_path)
    done = _compare(*args, "--out", "cmp", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: ")
    assert reason in done.stderr
    assert not (tmp_path / "cmp").exists()


def test_the_page_draws_each_candidates_ratio_bars(tmp_path: Path) -> None:
    """compare.html in Chromium: the p95 and throughput charts hold bars in every candidate's colour."""
    slow = _report("slow", p95=4.0)
    slow["load"]["scenarios"][0]["ratios"]["all requests"] |= {"p95": 6.0, "throughput": 0.3}
    groups = model.groups(_candidates(_report("fast", p95=1.1), slow))
    page = tmp_path / "compare.html"
    page.write_text(render.html(groups, "now"), encoding="utf-8")
    profile = tmp_path / "chromium"
    profile.mkdir()
    browser = Browser(chromium(), profile)
    layout = browser.layout(page)
    shot = browser.screenshot(page, height=layout.height)
    assert sorted(layout.charts) == ["compare-1-p95", "compare-1-throughput"]
    for chart, box in layout.charts.items():
        for colour in render.PALETTE[:2]:
            assert pixels_near(shot, box, colour) > 300, (chart, colour)
        assert pixels_near(shot, box, render.PALETTE[2]) == 0, chart  # a third colour: no third candidate
