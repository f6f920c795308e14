"""Similarity across a cohort: copies rank first, independent work stays below the review threshold."""

from __future__ import annotations

from pathlib import Path

import pytest
from _cohort import ROOT, make_cohort

from grader.similarity import REVIEW_THRESHOLD, cohort, read_python


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[frozenset[str], object]:
    apps = make_cohort(tmp_path_factory.mktemp("cohort"))
    ranked = cohort(
        {name: read_python(path) for name, path in apps.items()},
        read_python(ROOT / "exercise"),
        read_python(ROOT / "solution"),
    )
    return {frozenset((p.left, p.right)): p for p in ranked} | {"ranked": ranked}  # type: ignore[dict-item]


def test_a_fix_copied_with_renamed_variables_is_flagged(pairs: dict) -> None:
    """Renaming variables does not hide a copied fix: the pair is flagged for review."""
    assert pairs[frozenset(("alice", "bob"))].review_suggested


def test_a_copy_of_the_reference_solution_is_flagged(pairs: dict) -> None:
    """A lightly edited copy of the reference solution is flagged against it."""
    assert pairs[frozenset(("carol", "reference solution"))].similarity > 0.9


@pytest.mark.parametrize("other", ["alice", "bob", "carol", "reference solution"])
def test_independent_work_stays_below_the_threshold(pairs: dict, other: str) -> None:
    """A submission written independently is never flagged, against anyone."""
    assert pairs[frozenset(("dave", other))].similarity < REVIEW_THRESHOLD


def test_the_copied_pairs_rank_first(pairs: dict) -> None:
    """The ranking puts both copies above every pair of independent work."""
    top = {frozenset((p.left, p.right)) for p in pairs["ranked"][:2]}
    assert top == {frozenset(("alice", "bob")), frozenset(("carol", "reference solution"))}


def test_the_starter_code_counts_for_nobody(tmp_path: Path) -> None:
    """Two untouched copies of the exercise share nothing once the starter code is discounted."""
    exercise = read_python(ROOT / "exercise")
    [pair] = [p for p in cohort({"x": exercise, "y": dict(exercise)}, exercise, None)]
    assert pair.similarity == 0
    assert not pair.review_suggested


def test_shared_fragments_are_shown_side_by_side(pairs: dict) -> None:
    """A flagged pair carries its shared code, located by file and line on both sides."""
    fragment = pairs[frozenset(("alice", "bob"))].fragments[0]
    assert fragment.left.startswith("app/payments.py:")
    assert fragment.right.startswith("app/payments.py:")
    assert "asyncio" in fragment.left_code + fragment.right_code
