"""The bug catalogue (`catalogue.toml`), declared as a model, loaded and checked once."""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from grader.declared import Declared, first_problem

CATALOGUE_PATH = Path(__file__).with_name("catalogue.toml")


class CatalogueError(ValueError):
    """The catalogue file cannot be used; the message names the file, the bug and the field."""


class Bug(Declared):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str
    category: str
    red_flag: bool  # covered by one of the catalogue's `red_flag` entries (checked on load)
    weight: int = Field(ge=1, le=10)  # its share of its category's points (grader/report/score.py)
    weight_reason: str = Field(min_length=1)
    where: str
    symptom: str
    detection: str
    metric: str
    threshold: float
    present_when: Literal["above", "below"]
    unit: str
    threshold_note: str = ""
    measured: dict[str, float]  # the metric on a 2-core machine: exercise, solution (and others measured)
    fix: str
    alternative_fixes: tuple[str, ...] = Field((), strict=False)
    supporting_evidence: tuple[str, ...] = Field((), strict=False)

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


class RedFlag(Declared):
    """One walk-away sign of the brief, raised by any of its `entries`."""

    id: str
    title: str
    brief: str
    entries: tuple[str, ...] = Field(strict=False, min_length=1)


class LoadScore(Declared):
    """How the load index scores as one more entry of `category`."""

    category: str
    weight: int = Field(ge=1, le=10)
    weight_reason: str
    full_credit_within: float = Field(gt=1)
    no_credit_beyond: float = Field(gt=1)


class Catalogue(Declared):
    """catalogue.toml: its schema version, the scorecard's categories and one `[[bug]]` per injected flaw,
    and how they score (grader/report/score.py)."""

    schema_version: Literal[1]
    categories: tuple[str, ...] = Field(strict=False, min_length=1)
    bugs: tuple[Bug, ...] = Field(strict=False, min_length=1, alias="bug")
    # scoring; the version and the file's digest say which catalogue scored a report
    scoring_version: str
    category_weights: dict[str, float] = Field(alias="category_weight", strict=False)
    load_score: LoadScore
    contract_cost: dict[str, float] = Field(strict=False)
    red_flags: tuple[RedFlag, ...] = Field(strict=False, alias="red_flag")
    sha256: str = ""  # set on load, from the file's bytes

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
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: not valid TOML: {exc}") from None
    try:
        catalogue = Catalogue.model_validate(data)
    except ValidationError as exc:
        field, problem = first_problem(exc, Catalogue)
        if entry := re.match(r"bug\[(\d+)\]\.?", field):  # name the entry by its id, as a reader finds it
            raw = data["bug"][int(entry.group(1))]
            name = raw.get("id") if isinstance(raw, dict) else None
            field = f"bug {name or '#' + entry.group(1)}: {field[entry.end() :] or 'the entry'}"
        raise CatalogueError(f"{path}: {field}: {problem}") from None
    for bug in catalogue.bugs:
        if bug.category not in catalogue.categories:
            raise CatalogueError(f"{path}: bug {bug.id} has unknown category {bug.category!r}")
    ids = catalogue.ids
    if len(set(ids)) != len(ids):
        raise CatalogueError(f"{path}: duplicate bug ids")
    _check_scoring(path, catalogue)
    return catalogue.model_copy(update={"sha256": hashlib.sha256(text.encode()).hexdigest()})


def _check_scoring(path: Path, catalogue: Catalogue) -> None:
    """Every category given a share, the load scored in a known category, every flag on known entries."""
    weights = catalogue.category_weights
    if set(weights) != set(catalogue.categories) or min(weights.values()) <= 0:
        raise CatalogueError(f"{path}: category_weight must give every category a positive share")
    if catalogue.load_score.category not in catalogue.categories:
        raise CatalogueError(f"{path}: load_score.category must be one of the categories")
    covered = {entry for flag in catalogue.red_flags for entry in flag.entries}
    if unknown := covered - set(catalogue.ids):
        raise CatalogueError(f"{path}: red_flag entries name unknown bugs: {', '.join(sorted(unknown))}")
    for bug in catalogue.bugs:
        if bug.red_flag != (bug.id in covered):
            raise CatalogueError(f"{path}: bug {bug.id}: red_flag must be true exactly when a red_flag entry covers it")
