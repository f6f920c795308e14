"""Mutants (the solution with one bug put back) follow the solution, and the grader tells each apart."""

from __future__ import annotations

import py_compile
import tempfile
from pathlib import Path

import pytest
from _grading import grade_privately, import_bare

from grader.catalogue import load_catalogue
from grader.proof.mutants import SOLUTION, Edit, Mutant, MutantError, all_mutants, mutant_for, variant_names
from grader.validate.matrix import Column, expectations, render

BUG_IDS = load_catalogue().ids
MUTANT_NAMES = (*BUG_IDS, *variant_names())  # each bug's mutant, then the same bugs in one more place
SAMPLE = ("missing-await",)  # one whole grade here; `make validate` grades every mutant


def test_every_catalogued_bug_has_its_mutant() -> None:
    """There is exactly one mutant per catalogued bug, each with at least one edit that changes something."""
    mutants = all_mutants()
    assert [m.bug_id for m in mutants] == list(BUG_IDS)
    for mutant in mutants:
        assert mutant.edits, mutant.bug_id
        assert all(edit.old != edit.new for edit in mutant.edits), mutant.bug_id


@pytest.mark.parametrize("bug_id", MUTANT_NAMES)
def test_mutant_applies_to_the_current_solution_and_compiles(bug_id: str, tmp_path: Path) -> None:
    """Each old text is found exactly once in today's solution, and every edited file still compiles."""
    mutant = mutant_for(bug_id)
    built = mutant.build(tmp_path / bug_id)
    for path in {edit.path for edit in mutant.edits}:
        assert (built / path).read_text() != (SOLUTION / path).read_text(), path
        py_compile.compile(str(built / path), cfile=str(tmp_path / "compiled.pyc"), doraise=True)


@pytest.mark.parametrize("bug_id", MUTANT_NAMES)
def test_mutant_app_imports(bug_id: str, tmp_path: Path) -> None:
    """Each mutant's app still imports (the grader would otherwise only see an app that does not start)."""
    built = mutant_for(bug_id).build(tmp_path / bug_id)
    done = import_bare(built)
    assert done.returncode == 0, done.stderr[-2000:]


def test_every_variant_names_its_bug_and_is_found_by_name() -> None:
    """A variant is `<bug id>@<where>` of a catalogued bug, and mutant_for finds exactly it."""
    for name in variant_names():
        bug_id, _, variant = name.partition("@")
        assert bug_id in BUG_IDS, name
        assert variant, name
        assert mutant_for(name).name == name
    with pytest.raises(MutantError, match="no mutant n-plus-one@nowhere"):
        mutant_for("n-plus-one@nowhere")


def test_a_variant_expects_only_its_own_bug() -> None:
    """validate grades a variant like its mutant: its bug present, every other fixed."""
    expected = expectations("n-plus-one@cached", list(BUG_IDS))
    assert [bug for bug, verdict in expected.items() if verdict == "present"] == ["n-plus-one"]


def test_a_mutant_that_no_longer_fits_fails_loudly(tmp_path: Path) -> None:
    """An old text missing or found twice names the mutant and the file, instead of building a non-mutant."""
    missing = Mutant("some-bug", "", (Edit("app/main.py", "text the solution does not have", ""),))
    with pytest.raises(MutantError, match=r"mutant some-bug: app/main.py: .* found it 0 times"):
        missing.build(tmp_path / "missing")
    twice = Mutant("other-bug", "", (Edit("app/main.py", "import", "import"),))
    with pytest.raises(MutantError, match=r"mutant other-bug: app/main.py: .* found it \d+ times"):
        twice.build(tmp_path / "twice")
    absent = Mutant("third-bug", "", (Edit("app/nowhere.py", "x", "y"),))
    with pytest.raises(MutantError, match=r"mutant third-bug: app/nowhere.py does not exist"):
        absent.build(tmp_path / "absent")


def test_matrix_marks_every_miss_and_false_alarm() -> None:
    """The validation matrix flags a missed bug, a false alarm and a failed contract; a clean column passes."""
    bugs = list(BUG_IDS)
    clean = Column("n-plus-one", expectations("n-plus-one", bugs), contract={"passed": 20, "failed": 0})
    clean.verdicts = dict(clean.expected)
    wrong = Column("missing-await", expectations("missing-await", bugs), contract={"passed": 19, "failed": 1})
    wrong.verdicts = dict(wrong.expected) | {"missing-await": "fixed", "n-plus-one": "present"}
    assert expectations("exercise", bugs) == dict.fromkeys(bugs, "present")
    assert set(expectations("solution", bugs).values()) == {"fixed"}
    assert clean.problems == []
    assert sorted(wrong.mismatches) == ["missing-await", "n-plus-one"]
    assert any(problem.startswith("contract: 19/20") for problem in wrong.problems)
    text = render([clean, wrong], bugs)
    assert text.count("!") == 2 + 1 + text.count("! differs")  # two verdicts and the failed contract


@pytest.mark.slow
@pytest.mark.parametrize("bug_id", SAMPLE)
def test_grading_a_mutant_finds_exactly_its_bug(bug_id: str, tmp_path: Path) -> None:
    """A whole grade of a mutant marks its own bug present, every other bug fixed, and passes the contract."""
    with tempfile.TemporaryDirectory(prefix=f"mutant-{bug_id}-") as source:
        report = grade_privately(mutant_for(bug_id).build(Path(source) / bug_id), tmp_path / "report", name=bug_id)
    verdicts = {bug["id"]: bug["verdict"] for bug in report["bugs"]}
    expected = {bug: "present" if bug == bug_id else "fixed" for bug in BUG_IDS}
    wrong = {
        bug["id"]: (bug["verdict"], bug["message"])
        for bug in report["bugs"]
        if bug["id"] in expected and verdicts[bug["id"]] != expected[bug["id"]]
    }
    assert wrong == {}
    assert report["contract"]["failed"] == 0
