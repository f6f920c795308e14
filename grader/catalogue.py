"""The bug catalogue (`catalogue.toml`), declared as a model, loaded and checked once."""

from __future__ import annotations

import functools
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
    red_flag: bool
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
    weight: int | None = Field(None, ge=0)  # the bug's weight in its category's score (None: every bug alike)
    weight_reason: str | None = None  # why that weight, for the reviewer

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


class Catalogue(Declared):
    """catalogue.toml: its schema version, the scorecard's categories and one `[[bug]]` per injected flaw."""

    schema_version: Literal[1]
    categories: tuple[str, ...] = Field(strict=False, min_length=1)
    bugs: tuple[Bug, ...] = Field(strict=False, min_length=1, alias="bug")

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
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: not valid TOML: {exc}") from None
    try:
        catalogue = Catalogue.model_validate(data)
    except ValidationError as exc:
        field, problem = first_problem(exc, Catalogue)
        if entry := re.match(r"bug\[(\d+)\]\.?", field):  # name the entry by its id, as a reader finds it
            raw = data["bug"][int(entry.group(1))]
            name = raw.get("id") if isinstance(raw, dict) else None
            field = f"bug {name or '#' + entry.group(1)}: {field[entry.end():] or 'the entry'}"
        raise CatalogueError(f"{path}: {field}: {problem}") from None
    for bug in catalogue.bugs:
        if bug.category not in catalogue.categories:
            raise CatalogueError(f"{path}: bug {bug.id} has unknown category {bug.category!r}")
    ids = catalogue.ids
    if len(set(ids)) != len(ids):
        raise CatalogueError(f"{path}: duplicate bug ids")
    return catalogue
