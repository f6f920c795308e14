"""The bug catalogue (`catalogue.toml`), loaded and checked once."""

from __future__ import annotations

import functools
import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

CATALOGUE_PATH = Path(__file__).with_name("catalogue.toml")


@dataclass(frozen=True)
class Bug:
    id: str
    title: str
    category: str
    red_flag: bool  # covered by one of the catalogue's `red_flag` entries (checked on load)
    weight: int  # 1-10: its share of its category's points (grader/report/score.py)
    weight_reason: str
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
class RedFlag:
    """One walk-away sign of the brief, raised by any of its `entries`."""

    id: str
    title: str
    brief: str
    entries: tuple[str, ...]


@dataclass(frozen=True)
class LoadScore:
    """How the load index scores as one more entry of `category`."""

    category: str
    weight: int
    weight_reason: str
    full_credit_within: float
    no_credit_beyond: float


@dataclass(frozen=True)
class Catalogue:
    categories: tuple[str, ...]
    bugs: tuple[Bug, ...]
    # scoring (grader/report/score.py); the version and file digest say which catalogue scored a report
    scoring_version: str = ""
    sha256: str = ""
    category_weights: Mapping[str, float] = field(default_factory=dict)
    load_score: LoadScore | None = None
    contract_cost: Mapping[str, float] = field(default_factory=dict)
    red_flags: tuple[RedFlag, ...] = ()

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
    text = path.read_text()
    data = tomllib.loads(text)
    categories = tuple(data["categories"])
    bugs = []
    for entry in data["bug"]:
        fields = {key: value for key, value in entry.items() if key not in {"alternative_fixes", "supporting_evidence"}}
        fields.setdefault("threshold_note", "")
        if not {"weight", "weight_reason"} <= fields.keys():  # a new entry must be weighed before it is scored
            raise ValueError(f"{path}: bug {entry.get('id')}: no weight (1-10) and weight_reason")
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
    flags = tuple(RedFlag(f["id"], f["title"], f["brief"], tuple(f["entries"])) for f in data["red_flag"])
    _check_scoring(path, categories, bugs, data, flags)
    return Catalogue(
        categories=categories,
        bugs=tuple(bugs),
        scoring_version=str(data["scoring_version"]),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        category_weights=dict(data["category_weight"]),
        load_score=LoadScore(**data["load_score"]),
        contract_cost=dict(data["contract_cost"]),
        red_flags=flags,
    )


def _check_scoring(
    path: Path, categories: tuple[str, ...], bugs: list[Bug], data: dict[str, object], flags: tuple[RedFlag, ...]
) -> None:
    """Every entry weighed with a reason, every category given a share, every flag on known entries."""
    for bug in bugs:
        if not (isinstance(bug.weight, int) and 1 <= bug.weight <= 10) or not bug.weight_reason:
            raise ValueError(f"{path}: bug {bug.id}: weight must be an integer 1-10 with a weight_reason")
    weights = data["category_weight"]
    if not isinstance(weights, dict) or set(weights) != set(categories) or min(weights.values()) <= 0:
        raise ValueError(f"{path}: category_weight must give every category a positive share")
    load = data["load_score"]
    if not isinstance(load, dict) or load.get("category") not in categories:
        raise ValueError(f"{path}: load_score.category must be one of the categories")
    covered = {entry for flag in flags for entry in flag.entries}
    if unknown := covered - {bug.id for bug in bugs}:
        raise ValueError(f"{path}: red_flag entries name unknown bugs: {', '.join(sorted(unknown))}")
    for bug in bugs:
        if bug.red_flag != (bug.id in covered):
            raise ValueError(f"{path}: bug {bug.id}: red_flag must be true exactly when a red_flag entry covers it")
