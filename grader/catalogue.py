"""The bug catalogue (`catalogue.toml`), loaded and checked once."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

CATALOGUE_PATH = Path(__file__).with_name("catalogue.toml")


@dataclass(frozen=True)
class Bug:
    id: str
    title: str
    category: str
    red_flag: bool
    where: str
    symptom: str
    detection: str
    metric: str
    threshold: str
    fix: str
    alternative_fixes: tuple[str, ...]
    supporting_evidence: tuple[str, ...]

    @property
    def module(self) -> str:
        """The probe's module name under grader.probes."""
        return self.id.replace("-", "_")


@dataclass(frozen=True)
class Catalogue:
    categories: tuple[str, ...]
    bugs: tuple[Bug, ...]

    def bug(self, bug_id: str) -> Bug:
        for bug in self.bugs:
            if bug.id == bug_id:
                return bug
        raise KeyError(bug_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(bug.id for bug in self.bugs)


@functools.cache
def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    data = tomllib.loads(path.read_text())
    categories = tuple(data["categories"])
    bugs = []
    for entry in data["bug"]:
        bug = Bug(
            **{key: value for key, value in entry.items() if key not in {"alternative_fixes", "supporting_evidence"}},
            alternative_fixes=tuple(entry.get("alternative_fixes", ())),
            supporting_evidence=tuple(entry.get("supporting_evidence", ())),
        )
        if bug.category not in categories:
            raise ValueError(f"{path}: bug {bug.id} has unknown category {bug.category!r}")
        bugs.append(bug)
    ids = [bug.id for bug in bugs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: duplicate bug ids")
    return Catalogue(categories=categories, bugs=tuple(bugs))
