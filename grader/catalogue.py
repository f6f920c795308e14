"""The bug catalogue (`catalogue.toml`), loaded and checked once."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

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
    threshold: float
    present_when: Literal["above", "below"]
    unit: str
    threshold_note: str
    measured: Mapping[str, float]
    fix: str
    alternative_fixes: tuple[str, ...]
    supporting_evidence: tuple[str, ...]

    def crosses(self, value: float) -> bool:
        """Whether a measured `value` of the metric means the bug is present."""
        return value > self.threshold if self.present_when == "above" else value < self.threshold

    @property
    def threshold_text(self) -> str:
        rule = f"present when {self.metric} {'>' if self.present_when == 'above' else '<'} {self.threshold:g}"
        rule += f" {self.unit}" if self.unit else ""
        return f"{rule}; {self.threshold_note}" if self.threshold_note else rule

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
        fields = {key: value for key, value in entry.items() if key not in {"alternative_fixes", "supporting_evidence"}}
        fields.setdefault("threshold_note", "")
        bug = Bug(
            **fields,
            alternative_fixes=tuple(entry.get("alternative_fixes", ())),
            supporting_evidence=tuple(entry.get("supporting_evidence", ())),
        )
        if bug.present_when not in ("above", "below"):
            raise ValueError(f"{path}: bug {bug.id}: present_when must be 'above' or 'below'")
        if bug.category not in categories:
            raise ValueError(f"{path}: bug {bug.id} has unknown category {bug.category!r}")
        bugs.append(bug)
    ids = [bug.id for bug in bugs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: duplicate bug ids")
    return Catalogue(categories=categories, bugs=tuple(bugs))
