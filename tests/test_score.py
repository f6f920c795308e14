"""The scorecard on synthetic reports: weights, red flags, the contract's graduated cost, integrity, unverified
entries, the load curve and the recommendation band, each case with the score and band a reviewer expects."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from grader.catalogue import CATALOGUE_PATH, Catalogue, load_catalogue
from grader.report import html, markdown
from grader.report.model import Report
from grader.report.score import assess, load_credit, rank_key

CATALOGUE = load_catalogue()
SAMPLE = Path(__file__).parent / "data" / "report.json"  # a real grade's report
RULE = CATALOGUE.load_score
assert RULE is not None
BRIEF_FLAGS = {
    "sync-driver-in-async",
    "no-connection-pools",
    "cpu-bound-in-async",
    "forgot-to-await",
    "no-timeout-or-retry",
    "result-wait-deadlock",
}
AT_PAR = {"p95": 1.0, "throughput": 1.0}
FAR_BEHIND = {"p95": 24.7, "throughput": 0.09}  # the exercise's load index


def _report(
    verdicts: dict[str, str] | None = None,
    *,
    default: str = "fixed",
    failed: tuple[tuple[str, str | None, bool], ...] = (),
    integrity: dict[str, list[str]] | None = None,
    load: dict[str, float] | str | None = None,
    tampering: tuple[str, ...] = (),
    contract_ran: bool = True,
    catalogue: Catalogue = CATALOGUE,
) -> dict[str, Any]:
    """A report.json with these verdicts (others `default`), failed contract cases (name, severity or None for
    an old report, integrity), integrity findings per bug, a load index (or "skipped", "invalid") and
    tampering attempts (their kinds)."""
    given = verdicts or {}
    findings = integrity or {}
    bugs = [
        {"id": b.id, "verdict": given.get(b.id, default), "message": "measured", "integrity": findings.get(b.id, [])}
        for b in catalogue.bugs
    ]
    cases: list[dict[str, Any]] = [{"name": "health_ok", "outcome": "passed", "message": "", "severity": "minor"}]
    for name, severity, fake in failed:
        case: dict[str, Any] = {"name": name, "outcome": "failed", "message": f"{name} went wrong"}
        if severity is not None:
            case |= {"severity": severity, "integrity": fake}
        cases.append(case)
    if load in (None, "skipped"):
        load_section: dict[str, Any] = {"status": "skipped", "reason": "--skip-load"}
    else:
        valid = load != "invalid"
        index = dict(load) if isinstance(load, dict) else {"p95": None, "throughput": None}
        load_section = {
            "status": "ran",
            "reference": {"source": "cached"},
            "index": index | {"scenarios": 1 if valid else 0},
            "scenarios": [{"name": "spike", "valid": valid, "ratios": {"all requests": index}}],
        }
    return {
        "status": "graded",
        "options": {"quick": False, "skip_load": load is None, "only": []},
        "contract": {"passed": 1, "failed": len(failed), "cases": cases} if contract_ran else None,
        "bugs": bugs,
        "tampering": [{"kind": kind, "what": f"tried {kind}", "seen": "somewhere", "count": 1} for kind in tampering],
        "load": load_section,
    }


ASYNC_ONLY = {bug.id: "present" for bug in CATALOGUE.bugs if bug.category != "Async Fundamentals"}
FAKE_PAYMENTS = {"no-upstream-timeout": ["201 with payment_id ch_x: no such charge at the provider"]}

# what the submission did: its report, then the score and the band a reviewer expects
SCORECARDS = [
    pytest.param(_report(load=AT_PAR), 100.0, "strong", id="all fixed, load at par"),
    pytest.param(_report(), 100.0, "strong", id="all fixed, --skip-load: partial, not penalised"),
    pytest.param(_report(default="present", load=FAR_BEHIND), 0.0, "no hire signal", id="all present, load far behind"),
    # the async driver's 8.8 points are lost, and a walk-away sign left keeps it out of `strong`
    pytest.param(_report({"sync-db-driver": "present"}, load=AT_PAR), 91.2, "mixed", id="one red flag left"),
    pytest.param(_report({"no-request-metrics": "present"}, load=AT_PAR), 97.6, "strong", id="one plain bug left"),
    pytest.param(_report({"n-plus-one": "inconclusive"}, load=AT_PAR), 100.0, "strong", id="one inconclusive"),
    pytest.param(
        _report({"sync-bridge-deadlock": "inconclusive"}, load=AT_PAR), 100.0, "mixed", id="red-flag bug inconclusive"
    ),
    pytest.param(
        _report(failed=(("rounding", "minor", False),), load=AT_PAR), 96.0, "strong", id="one minor case failed"
    ),
    pytest.param(
        _report(failed=(("checkout", "critical", False),), load=AT_PAR), 60.0, "mixed", id="one critical case failed"
    ),
    pytest.param(
        _report(failed=(("renamed", None, False),), load=AT_PAR), 85.0, "strong", id="old report: a failure is major"
    ),
    pytest.param(
        _report({"no-upstream-timeout": "present"}, integrity=FAKE_PAYMENTS, load=AT_PAR),
        94.6,
        "no hire signal",
        id="integrity: fake payment ids",
    ),
    pytest.param(
        _report(failed=(("stock_after_order", "critical", True),), load=AT_PAR),
        60.0,
        "no hire signal",
        id="integrity: a contract case",
    ),
    pytest.param(_report(load=FAR_BEHIND), 92.0, "strong", id="load far behind, every bug fixed"),
    pytest.param(_report(load={"p95": 3.0, "throughput": 0.5}), 97.1, "strong", id="load between 1.5x and 10x"),
    pytest.param(_report(load="invalid"), 92.0, "strong", id="load runs all invalid: earn nothing"),
    pytest.param(
        _report(default="inconclusive", contract_ran=False), 0.0, "no hire signal", id="the app did not start"
    ),
    pytest.param(
        _report(load=AT_PAR, tampering=("control-port",)), 100.0, "no hire signal", id="tampering: a control port"
    ),
    pytest.param(
        _report(load=AT_PAR, tampering=("connection-exhaustion",)), 100.0, "mixed", id="tampering: hoarding slots"
    ),
    pytest.param(_report(ASYNC_ONLY, load=FAR_BEHIND), 35.0, "no hire signal", id="only the async category fixed"),
]


def _score(report: dict[str, Any], catalogue: Catalogue = CATALOGUE) -> dict[str, Any]:
    score, _ = assess(report, catalogue)
    assert score is not None
    return score


@pytest.mark.parametrize(("report", "overall", "shown"), SCORECARDS)
def test_scorecard_gives_what_a_reviewer_expects(report: dict[str, Any], overall: float, shown: str) -> None:
    """Each synthetic verdict set scores and bands as written beside it."""
    score = _score(report)
    assert (score["overall"], score["scorecard"]["band"]) == (overall, shown), score["scorecard"]["band_reasons"]


def test_every_entry_has_a_weight_with_a_reason_and_points_sum_to_100() -> None:
    """Weights 1-10 with a reason; the report's points per entry, load included, add up to 100."""
    assert all(1 <= bug.weight <= 10 and bug.weight_reason for bug in CATALOGUE.bugs)
    score = _score(_report(load=AT_PAR))
    assert math.isclose(sum(row["points"] for row in score["scorecard"]["entries"]), 100, abs_tol=0.05)


def test_the_async_driver_outweighs_a_pydantic_model() -> None:
    """The weights, not category sizes, decide a bug's points."""
    score = _score(_report(load=AT_PAR))
    points = {row["id"]: row["points"] for row in score["scorecard"]["entries"]}
    assert points["sync-db-driver"] > points["no-input-validation"]


def test_splitting_an_entry_keeps_its_category_share(tmp_path: Path) -> None:
    """An entry split in two takes its points from its own category, not from the others."""
    text = CATALOGUE_PATH.read_text()
    start = text.index('id = "notification-inline"')
    entry = text[start : text.find("[[bug]]", start) % (len(text) + 1)]
    twin = "\n[[bug]]\n" + entry.replace('id = "notification-inline"', 'id = "notification-durable"', 1)
    path = tmp_path / "catalogue.toml"
    path.write_text(text + twin)
    split = load_catalogue(path)
    report = _report({"notification-durable": "present"}, load=AT_PAR, catalogue=split)
    before, after = _score(_report(load=AT_PAR)), _score(report, split)
    for name, category in before["categories"].items():
        assert after["categories"][name]["points"] == category["points"]
    weight = CATALOGUE.bug("notification-inline").weight
    total = sum(b.weight for b in CATALOGUE.bugs if b.category == "Async Fundamentals") + weight
    assert after["overall"] == round(100 - 35 * weight / total, 1)  # the twin's share of its category


def test_an_entry_without_a_weight_is_refused(tmp_path: Path) -> None:
    """A new catalogue entry must be weighed before it can be scored."""
    path = tmp_path / "catalogue.toml"
    path.write_text(CATALOGUE_PATH.read_text().replace("weight = 5\n", "", 1))
    with pytest.raises(ValueError, match="bug http-client-per-request: weight: is required"):
        load_catalogue(path)


def test_the_six_red_flags_of_the_brief_are_raised_first_by_the_exercise() -> None:
    """All six walk-away signs, each naming its entries, when every bug is present."""
    _, flags = assess(_report(default="present"), CATALOGUE)
    assert {flag["id"] for flag in flags} == BRIEF_FLAGS
    assert all(flag["state"] == "present" and flag["entries"] for flag in flags)


def test_a_flag_covering_two_entries_is_raised_by_either() -> None:
    """No timeout or no retry: the same walk-away sign, naming the entry that raised it."""
    _, flags = assess(_report({"no-upstream-retry": "present"}), CATALOGUE)
    assert [(flag["id"], flag["entries"]) for flag in flags] == [("no-timeout-or-retry", ["no-upstream-retry"])]


def test_an_unverified_red_flag_bug_is_listed_as_such() -> None:
    """Inconclusive is neither fixed nor present: "red flag unverified", and the score is partial."""
    score, flags = assess(_report({"sync-db-driver": "inconclusive"}), CATALOGUE)
    assert score is not None
    assert [flag["title"] for flag in flags] == ["red flag unverified: Sync database driver in async endpoints"]
    assert score["scorecard"]["partial"] is True
    row = next(row for row in score["scorecard"]["entries"] if row["id"] == "sync-db-driver")
    assert (row["state"], row["earned"]) == ("unverified", None)


def test_integrity_is_the_first_red_flag_with_its_evidence() -> None:
    """Reporting work not done comes before every other flag, quoting what the probe saw."""
    finding = "order 7 paid without a charge at the provider"
    _, flags = assess(_report({"sync-db-driver": "present"}, integrity={"missing-await": [finding]}), CATALOGUE)
    assert flags[0]["id"] == "integrity"
    assert flags[0]["title"] == "Reports work it did not do"
    assert flags[0]["evidence"] == [{"source": "probe", "id": "missing-await", "evidence": finding}]


def test_an_integrity_failure_ranks_below_every_honest_partial_fix() -> None:
    """A 94.6 that fakes its payments ranks below a 35 that is honest."""
    faker = rank_key(*assess(_report({"no-upstream-timeout": "present"}, integrity=FAKE_PAYMENTS, load=AT_PAR)))
    honest = rank_key(*assess(_report(ASYNC_ONLY, load=FAR_BEHIND)))
    assert faker is not None
    assert honest is not None
    assert honest < faker


@pytest.mark.parametrize("severity", ["critical", "major", "minor"])
def test_each_failed_case_is_listed_with_what_it_cost(severity: str) -> None:
    """The report names the case, its severity and the points it took."""
    score = _score(_report(failed=(("a_case", severity, False),), load=AT_PAR))
    [case] = score["scorecard"]["contract"]["cases"]
    cost = CATALOGUE.contract_cost[severity]
    assert (case["name"], case["severity"], case["lost"]) == ("a_case", severity, round(100 * cost, 1))


def test_no_single_minor_case_halves_a_score() -> None:
    """A shape detail costs little; only several failures can take half."""
    score = _score(_report(failed=(("rounding", "minor", False),), load=AT_PAR))
    assert 50 < score["overall"] < 100


def test_many_failed_cases_never_go_below_zero() -> None:
    """Costs add up to at most the whole score."""
    failed = tuple((f"case_{i}", "critical", False) for i in range(5))
    score = _score(_report(failed=failed, load=AT_PAR))
    assert score["overall"] == 0


@pytest.mark.parametrize(
    ("ratio", "credit"),
    [(0.5, 1.0), (1.5, 1.0), (math.sqrt(15), 0.5), (10.0, 0.0), (24.7, 0.0), (math.inf, 0.0), (None, 0.0)],
)
def test_load_curve(ratio: float | None, credit: float) -> None:
    """Full credit within 1.5x the reference, none from 10x, log-linear between (the geometric middle: half)."""
    assert RULE is not None
    assert math.isclose(load_credit(ratio, RULE), credit, abs_tol=1e-9)


def test_invalid_load_runs_say_they_earn_nothing() -> None:
    """No valid scenario: the load entry earns 0 and says why."""
    score = _score(_report(load="invalid"))
    row = next(row for row in score["scorecard"]["entries"] if row["id"] == "load")
    assert (row["state"], row["earned"]) == ("invalid", 0.0)
    assert "invalid runs earn nothing" in row["reason"]


def test_a_skipped_load_is_left_out_not_penalised() -> None:
    """--skip-load: the load entry is out of numerator and denominator, and the score says partial."""
    score = _score(_report())
    assert score["scorecard"]["left_out"] == [{"id": "load", "state": "not measured",
                                               "reason": "load skipped (--skip-load): left out"}]  # fmt: skip


def test_a_change_of_weights_rescores_an_old_report() -> None:
    """The score comes from the report's facts and the catalogue given, not from the stored score."""
    report = _report({"sync-db-driver": "present"}, load=AT_PAR)
    report["score"] = {"overall": 12.0}
    lighter = tuple(b.model_copy(update={"weight": 1}) if b.id != "sync-db-driver" else b for b in CATALOGUE.bugs)
    heavier = CATALOGUE.model_copy(update={"bugs": lighter})  # the driver now outweighs the rest of its category
    before, after = _score(copy.deepcopy(report)), _score(report, heavier)
    assert after["overall"] < before["overall"] == 91.2


def test_a_grade_that_errored_has_no_score() -> None:
    """The infrastructure failed: no score, no band."""
    assert assess(_report() | {"status": "error"}, CATALOGUE)[0] is None


def test_the_report_says_which_catalogue_scored_it() -> None:
    """Its scoring version and the file's digest."""
    score = _score(_report())
    assert score["scorecard"]["catalogue"] == {"scoring_version": CATALOGUE.scoring_version, "sha256": CATALOGUE.sha256}


def _rendered_sample() -> Report:
    """The sample grade's report with a red flag left, an integrity finding and a minor case failed, re-scored."""
    report: dict[str, Any] = json.loads(SAMPLE.read_text())
    report["options"]["only"] = []
    for bug in report["bugs"]:
        bug["verdict"] = "present" if bug["id"] in {"sync-db-driver", "no-upstream-timeout"} else "fixed"
    next(bug for bug in report["bugs"] if bug["id"] == "no-upstream-timeout")["integrity"] = ["order 3 paid, no charge"]
    report["contract"]["cases"][1] |= {"outcome": "failed", "severity": "minor", "message": "a renamed field"}
    report["score"], report["red_flags"] = assess(report, CATALOGUE)
    return Report.model_validate(report)


def test_report_md_shows_red_flags_first_then_the_band_and_what_the_contract_cost() -> None:
    """Red flags (the integrity evidence first), the band with its reasons, then the score and its losses."""
    text = markdown.render(_rendered_sample())
    assert text.index("## Red flags") < text.index("## Recommendation: no hire signal") < text.index("## Score:")
    assert "- **Reports work it did not do** (`integrity`)" in text
    assert "(minor): -4 % = -3.2 points: a renamed field" in text  # 4 % of the probes' 80.1


def test_report_html_shows_red_flags_before_the_band() -> None:
    """The page's scorecard opens with the red flags, then the band badge and its note."""
    page = html.render(_rendered_sample())
    assert page.index('id="red-flags"') < page.index('id="band"') < page.index("Points per entry")
    assert "order 3 paid, no charge" in page
