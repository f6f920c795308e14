"""The scorecard: category scores from verdicts, and the contract's cap on the total."""

from __future__ import annotations

from grader.catalogue import load_catalogue
from grader.report.score import contract_cap, red_flags, scorecard

CATALOGUE = load_catalogue()


def test_every_bug_fixed_and_the_contract_passed_scores_100() -> None:
    """Full marks need every probe fixed and every contract case passed."""
    card = scorecard(CATALOGUE, dict.fromkeys(CATALOGUE.ids, "fixed"), 20, 20)
    assert card["overall"] == 100
    assert card["contract_cap"] == 100


def test_categories_weigh_the_same_whatever_their_size() -> None:
    """Fixing one whole category is worth a fifth of the total."""
    verdicts = {bug.id: ("fixed" if bug.category == "System Design" else "present") for bug in CATALOGUE.bugs}
    card = scorecard(CATALOGUE, verdicts, 20, 20)
    assert card["categories"]["System Design"]["score"] == 100
    assert card["overall"] == 20


def test_inconclusive_earns_no_credit() -> None:
    """Only a measured fix counts."""
    card = scorecard(CATALOGUE, dict.fromkeys(CATALOGUE.ids, "inconclusive"), 20, 20)
    assert card["overall"] == 0


def test_breaking_the_contract_caps_a_fast_submission() -> None:
    """All probes fixed but one contract case failing: capped below half marks."""
    card = scorecard(CATALOGUE, dict.fromkeys(CATALOGUE.ids, "fixed"), 19, 20)
    assert card["uncapped"] == 100
    assert card["overall"] == contract_cap(19, 20) == 47.5


def test_red_flags_are_the_walk_away_bugs_still_present() -> None:
    """Only bugs the catalogue marks as red flags, and only when present."""
    verdicts = dict.fromkeys(CATALOGUE.ids, "present")
    flagged = {flag["id"] for flag in red_flags(CATALOGUE, verdicts, {})}
    assert flagged == {bug.id for bug in CATALOGUE.bugs if bug.red_flag}
    assert red_flags(CATALOGUE, dict.fromkeys(CATALOGUE.ids, "fixed"), {}) == []
