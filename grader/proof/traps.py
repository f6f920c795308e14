"""Trap submissions: apps a candidate might really write, each with the verdicts an expert reviewer gives.

`grader/proof/traps/<name>/` holds a complete app (`app/main.py` and the rest, derived from the solution
or the exercise) and `expected.toml`: for every catalogued bug the verdict a reviewer reading the code
gives (`fixed` or `present`) with a one-line reason, whether a correct contract suite passes it, and
whether the service reports only work it really did (`integrity`). Partial fixes that look complete,
caches in front of bugs, shortcuts that fake the work and correct designs unlike the reference: the
probes were not written around them, so `make validate` grading them (columns `trap-<name>`) proves
the grader against what it was not tuned on.

Two catalogue entries ask two questions each; `[halves.<id>]` answers each half on its own, and the
entry's verdict is `present` exactly when one of its halves is. When the catalogue splits such an entry
into two ids, `SPLIT_IDS` names the new id of each half: its verdict is then read from the half, and the
old id is no longer expected in the catalogue.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.catalogue import load_catalogue

TRAPS_DIR = Path(__file__).with_name("traps")
PREFIX = "trap-"
EXPECTED = "expected.toml"
# The entries that hide two questions, and their halves in the order the entry's detection names them.
HALVES: dict[str, tuple[str, str]] = {
    "resources-outside-lifespan": ("built_at_import", "released_on_shutdown"),
    "notification-inline": ("off_request", "durable"),
}

# (old id, half) -> the catalogue id that asks that half alone, once the catalogue is split.
SPLIT_IDS: dict[tuple[str, str], str] = {
    ("resources-outside-lifespan", "built_at_import"): "resources-at-import",
    ("resources-outside-lifespan", "released_on_shutdown"): "resources-not-released",
    ("notification-inline", "off_request"): "notification-inline",
    ("notification-inline", "durable"): "notification-lost",
}

Verdict = Literal["fixed", "present"]


class TrapError(Exception):
    """A trap's expected.toml is missing, malformed or out of step with the catalogue (one line)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BugExpectation(_Strict):
    verdict: Verdict
    reason: str = Field(min_length=10)


class Gap(_Strict):
    """Where today's grader is known to measure otherwise than the expert's verdict, and why: validate accepts
    `grader` for this bug and lists the gap, so the matrix says what the grader cannot yet see."""

    grader: Literal["fixed", "present", "inconclusive"]
    reason: str = Field(min_length=10)


class ContractExpectation(_Strict):
    passes: bool
    reason: str = Field(min_length=10)


class Expected(_Strict):
    summary: str = Field(min_length=10)
    based_on: Literal["solution", "exercise"]
    shape: Literal[
        "partial fix", "cache in front of a bug", "shortcut", "everything faked", "other correct design", "not a fix"
    ]
    integrity: bool  # the service reports only work it did: no made-up payment ids, stale stock, copied rates
    integrity_reason: str = Field(min_length=10)
    contract: ContractExpectation
    bugs: dict[str, BugExpectation]
    halves: dict[str, dict[str, Verdict]]
    gaps: dict[str, Gap] = {}  # by catalogue id: known limits of the grader on this trap


@dataclass(frozen=True)
class Trap:
    name: str
    root: Path  # the submission: the directory holding app/
    expected: Expected

    @property
    def column(self) -> str:
        return f"{PREFIX}{self.name}"

    def verdicts(self, bug_ids: Iterable[str]) -> dict[str, str]:
        """The expected verdict of every id in `bug_ids` (a split entry's halves under their new ids)."""
        return {bug: _verdict(self.expected, bug) for bug in bug_ids}


def names() -> list[str]:
    """Every trap: the directories under grader/proof/traps/ holding app/main.py."""
    return sorted(main.parent.parent.name for main in TRAPS_DIR.glob("*/app/main.py"))


def columns() -> list[str]:
    """The validate matrix's column of each trap, `trap-<name>`."""
    return [f"{PREFIX}{name}" for name in names()]


def is_column(column: str) -> bool:
    return column.startswith(PREFIX)


def for_column(column: str, bug_ids: Iterable[str] | None = None) -> Trap:
    """The trap of a `trap-<name>` column, its expectations checked against the catalogue."""
    return load(column.removeprefix(PREFIX), bug_ids)


def load(name: str, bug_ids: Iterable[str] | None = None) -> Trap:
    """Trap `name` with its expected.toml read and checked against `bug_ids` (default: the catalogue's)."""
    return _cached(TRAPS_DIR / name, tuple(bug_ids) if bug_ids is not None else load_catalogue().ids)


def load_dir(root: Path, bug_ids: Iterable[str]) -> Trap:
    """The trap at `root` (a directory holding app/ and expected.toml), checked against `bug_ids`."""
    path = root / EXPECTED
    where = f"{root.name}/{EXPECTED}"
    if not (root / "app" / "main.py").is_file():
        raise TrapError(f"{root.name}: no app/main.py")
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise TrapError(f"{where}: missing") from None
    except tomllib.TOMLDecodeError as exc:  # a bug named twice is a duplicate key, refused here
        raise TrapError(f"{where}: {exc}") from None
    try:
        expected = Expected.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise TrapError(f"{where}: {field}: {first['msg']}") from None
    if problem := _disagreement(expected, tuple(bug_ids)):
        raise TrapError(f"{where}: {problem}")
    return Trap(name=root.name, root=root, expected=expected)


_cached = functools.cache(load_dir)


def _verdict(expected: Expected, bug: str) -> str:
    for (old, half), new in SPLIT_IDS.items():
        if new == bug:
            return expected.halves[old][half]
    return expected.bugs[bug].verdict


def _disagreement(expected: Expected, bug_ids: tuple[str, ...]) -> str | None:  # noqa: PLR0911 - a check a line
    """What in `expected` does not fit the catalogue or itself, or None."""
    split = {old for old, _ in SPLIT_IDS}
    if missing := [bug for bug in bug_ids if bug not in expected.bugs and bug not in SPLIT_IDS.values()]:
        return f"bugs: no verdict for {', '.join(missing)}"
    if unknown := sorted(set(expected.bugs) - set(bug_ids) - split):
        return f"bugs: not in the catalogue: {', '.join(unknown)}"
    if unknown_gaps := sorted(set(expected.gaps) - set(bug_ids)):
        return f"gaps: not in the catalogue: {', '.join(unknown_gaps)}"
    if sorted(expected.halves) != sorted(HALVES):
        return f"halves: expected a table for each of {', '.join(HALVES)}, got {', '.join(expected.halves) or 'none'}"
    for bug, halves in expected.halves.items():
        if sorted(halves) != sorted(HALVES[bug]):
            return f"halves.{bug}: expected {', '.join(HALVES[bug])}, got {', '.join(halves)}"
        whole = "present" if "present" in halves.values() else "fixed"
        if bug in expected.bugs and expected.bugs[bug].verdict != whole:
            return f"bugs.{bug}: verdict {expected.bugs[bug].verdict} but its halves say {whole}"
    return None


def integrity_findings(report: dict[str, Any]) -> list[str]:
    """What a grade's report says the service reported without doing: probes' findings, failed integrity cases."""
    found = [f"{bug['id']}: {finding}" for bug in report.get("bugs") or [] for finding in bug.get("integrity") or []]
    cases = (report.get("contract") or {}).get("cases") or []
    found += [f"contract {case['name']}" for case in cases if case.get("outcome") != "passed" and case.get("integrity")]
    return found
