"""The traps (grader/proof/traps/): well-formed expectations, apps a grade can run, kept out of the kit.

Nothing here grades a trap: `make validate` does (columns `trap-<name>`), against these expectations.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from _grading import import_bare

from grader.catalogue import load_catalogue
from grader.environment import ROOT
from grader.evidence.static import foreign_imports
from grader.kit import leaks as _leaks
from grader.kit._layout import kit_files
from grader.proof import traps
from grader.validate.matrix import Column, expectations, plan, render

BUG_IDS = list(load_catalogue().ids)
NAMES = traps.names()
ANY_TRAP = "sync-history"


def _copy(tmp_path: Path, name: str = ANY_TRAP) -> Path:
    """A private copy of a trap, to spoil its expected.toml."""
    return Path(shutil.copytree(traps.TRAPS_DIR / name, tmp_path / name))


def _rewrite(root: Path, old: str, new: str) -> None:
    path = root / traps.EXPECTED
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def test_there_are_at_least_ten_traps_of_every_shape() -> None:
    """At least ten traps: partial fixes, caches in front of bugs, shortcuts, faked work and other correct designs."""
    assert len(NAMES) >= 10, NAMES
    shapes = {traps.load(name).expected.shape for name in NAMES}
    assert {"partial fix", "cache in front of a bug", "shortcut", "everything faked", "other correct design"} <= shapes


@pytest.mark.parametrize("name", NAMES)
def test_expected_names_every_catalogue_bug_once_with_a_verdict_and_a_reason(name: str) -> None:
    """expected.toml holds exactly the catalogue's bug ids, each `fixed` or `present` with a reason."""
    raw = tomllib.loads((traps.TRAPS_DIR / name / traps.EXPECTED).read_text())  # a duplicate key fails here
    split = set(traps.SPLIT_IDS.values())  # read from the halves of the entry they were split from
    assert sorted(raw["bugs"]) == sorted({b for b in BUG_IDS if b not in split} | {old for old, _ in traps.SPLIT_IDS})
    expected = traps.load(name).expected
    assert all(bug.verdict in ("fixed", "present") and bug.reason.strip() for bug in expected.bugs.values())
    assert expected.contract.reason.strip()
    assert expected.integrity_reason.strip()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('n-plus-one = { verdict = "fixed"', 'n-plus-one = { verdict = "maybe"', "bugs.n-plus-one.verdict"),
        ("[contract]\npasses = true", "[contract]\npasses = true\npasses = false", "Cannot overwrite a value"),
        ("\nn-plus-one = {", "\nn-plus-one-again = {", "no verdict for n-plus-one"),
        ('durable = "fixed"', 'durable = "present"', "bugs.notification-inline: verdict fixed but its halves say"),
        ('off_request = "fixed"\n', "", "halves.notification-inline: expected off_request, durable"),
        ("integrity = true", "integrity = true\nconfidence = 1", "confidence: Extra inputs are not permitted"),
    ],
    ids=["bad-verdict", "duplicate-key", "missing-bug", "halves-disagree", "half-missing", "unknown-field"],
)
def test_a_spoilt_expected_toml_is_refused_in_one_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    """A wrong verdict, a key named twice, a missing bug, halves out of step or an unknown field: one line naming it."""
    root = _copy(tmp_path)
    _rewrite(root, old, new)
    with pytest.raises(traps.TrapError, match=message) as caught:
        traps.load_dir(root, BUG_IDS)
    assert "\n" not in str(caught.value)


def test_a_split_catalogue_entry_takes_its_verdicts_from_the_halves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the catalogue splits an entry in two ids, mapped in SPLIT_IDS, each new id gets its half's verdict."""
    monkeypatch.setitem(traps.SPLIT_IDS, ("notification-inline", "off_request"), "notification-off-request")
    monkeypatch.setitem(traps.SPLIT_IDS, ("notification-inline", "durable"), "notification-durable")
    others = [b for b in BUG_IDS if b not in {"notification-inline", "notification-lost"}]
    split = [*others, "notification-off-request", "notification-durable"]
    trap = traps.load_dir(traps.TRAPS_DIR / "all-faked", split)
    verdicts = trap.verdicts(split)
    assert (verdicts["notification-off-request"], verdicts["notification-durable"]) == ("fixed", "present")


@pytest.mark.parametrize("name", NAMES)
def test_trap_imports_only_allowed_packages(name: str) -> None:
    """Each trap imports nothing the grader's environment lacks for submissions."""
    assert [finding.as_dict() for finding in foreign_imports(traps.TRAPS_DIR / name)] == []


@pytest.mark.parametrize("name", NAMES)
def test_trap_imports_bare_unless_it_builds_resources_at_import(name: str) -> None:
    """`import app.main` with no environment works exactly when the trap's resources are not built at import."""
    built_at_import = traps.load(name).expected.halves["resources-outside-lifespan"]["built_at_import"] == "present"
    done = import_bare(traps.TRAPS_DIR / name)
    assert (done.returncode != 0) == built_at_import, done.stderr[-2000:]


def test_validate_has_a_column_per_trap_expecting_its_verdicts_and_contract() -> None:
    """`make validate` grades every trap as column trap-<name>, expecting its expected.toml's verdicts and contract."""
    columns = plan(traps.columns(), BUG_IDS, repeat=0, repeat_on=[])
    assert [c.name for c in columns] == [f"trap-{name}" for name in NAMES]
    for column in columns:
        trap = traps.for_column(column.name)
        assert column.expected == expectations(column.name, BUG_IDS) == trap.verdicts(BUG_IDS)
        assert column.contract_passes == trap.expected.contract.passes
        assert column.integrity == trap.expected.integrity


@pytest.mark.parametrize(
    ("expected_to_pass", "failed", "problem"), [(False, 0, True), (False, 3, False), (True, 3, True), (True, 0, False)]
)
def test_a_trap_column_fails_on_a_contract_outcome_other_than_expected(
    expected_to_pass: bool, failed: int, problem: bool
) -> None:
    """A trap expected to fail the contract is wrong when it passes, and one expected to pass when it fails."""
    column = Column("trap-x", {"n-plus-one": "present"}, contract_passes=expected_to_pass)
    column.verdicts = {"n-plus-one": "present"}
    column.contract = {"passed": 20 - failed, "failed": failed}
    assert bool(column.problems) == problem, column.problems


@pytest.mark.parametrize(
    ("honest", "findings", "problem"),
    [(True, [], False), (True, ["no-upstream-timeout: 201 without a charge"], True), (False, [], True)],
)
def test_a_trap_column_fails_on_integrity_findings_other_than_expected(
    honest: bool, findings: list[str], problem: bool
) -> None:
    """An honest trap with an integrity finding, or a faking one without any, is a problem of the column."""
    column = Column("trap-x", {}, integrity=honest, integrity_findings=findings)
    column.contract = {"passed": 20, "failed": 0}
    assert bool(column.problems) == problem, column.problems


def test_integrity_findings_come_from_probes_and_failed_integrity_cases() -> None:
    """A report's integrity findings: each probe's, and each failed contract case marked integrity."""
    report = {
        "bugs": [{"id": "n-plus-one", "integrity": []}, {"id": "no-upstream-timeout", "integrity": ["fake id"]}],
        "contract": {
            "cases": [
                {"name": "stock_reads_back", "outcome": "failed", "integrity": True},
                {"name": "health_answers_ok", "outcome": "failed", "integrity": False},
                {"name": "order_reads_back", "outcome": "passed", "integrity": True},
            ]
        },
    }
    assert traps.integrity_findings(report) == ["no-upstream-timeout: fake id", "contract stock_reads_back"]


def test_no_kit_file_comes_from_the_traps() -> None:
    """The kit is built without anything of grader/proof/."""
    assert [f.source for f in kit_files(ROOT) if f.source.startswith("grader/proof")] == []


def test_solution_lines_copied_into_traps_stay_forbidden_in_the_kit() -> None:
    """A solution line every trap repeats is still a leak: traps are hidden, not the grader's own idiom."""
    line = "sessionmaker=async_sessionmaker(engine, expire_on_commit=False),"
    for name in ("sync-history", "no-retry"):
        assert line in (traps.TRAPS_DIR / name / "app" / "main.py").read_text()
    assert _leaks.normalize(line) in _leaks.forbidden(ROOT).lines


def test_a_known_gap_is_accepted_and_listed_not_hidden() -> None:
    """A recorded gap lets the grader's verdict through, marks it `~` and names it; any other verdict still fails."""
    bugs = list(BUG_IDS)
    column = Column("trap-x", dict.fromkeys(bugs, "fixed"), gaps={"n-plus-one": ("inconclusive", "cannot be seen")})
    column.verdicts = dict(column.expected) | {"n-plus-one": "inconclusive"}
    assert column.mismatches == []
    assert column.known_gaps == ["n-plus-one"]
    assert "trap-x n-plus-one: graded inconclusive, expert fixed: cannot be seen" in render([column], bugs)
    column.verdicts["n-plus-one"] = "present"
    assert column.mismatches == ["n-plus-one"]
