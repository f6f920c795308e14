"""A mutant: the reference solution with one catalogued bug put back, as exact text replacements."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SOLUTION = ROOT / "solution"


class MutantError(Exception):
    """A mutant no longer applies to the solution: an old text is missing or ambiguous."""


@dataclass(frozen=True)
class Edit:
    """Replace `old`, which must occur exactly once in `path` (relative to the app's root), by `new`."""

    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Mutant:
    bug_id: str
    summary: str
    edits: tuple[Edit, ...]
    # "" for the bug as the exercise has it; otherwise the same bug in one more place (a module's
    # VARIANTS), named `<bug id>@<variant>`, graded like the mutant: exactly its bug present
    variant: str = ""
    # Entries this bug legitimately shows in too, each with why: one flaw whose symptom is another entry's
    # (a session left open by every 409 holds the pool, so the last units' buyers get 503s)
    also_present: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return f"{self.bug_id}@{self.variant}" if self.variant else self.bug_id

    def apply(self, root: Path) -> None:
        """Apply every edit in order to the app under `root`; fail loudly, naming mutant and file."""
        for edit in self.edits:
            file = root / edit.path
            if not file.is_file():
                raise MutantError(f"mutant {self.name}: {edit.path} does not exist")
            text = file.read_text()
            found = text.count(edit.old)
            if found != 1:
                raise MutantError(
                    f"mutant {self.name}: {edit.path}: expected the old text exactly once, found it {found} times"
                    f" (the solution changed; update the mutant):\n{edit.old}"
                )
            file.write_text(text.replace(edit.old, edit.new))

    def build(self, dest: Path) -> Path:
        """A copy of `solution/` at `dest` (which must not exist) with this mutant applied; returns `dest`."""
        shutil.copytree(SOLUTION, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        self.apply(dest)
        return dest
