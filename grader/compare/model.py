"""Candidates side by side: which reports may be compared, and their rankings.

Two reports are comparable only when they come from the same grader version, the same scenario set and the
same kit version (scenarios, reference app, load code, packages, workers: load.reference.kit_version): the
load index is a ratio to the reference, and a different kit moves the reference. Reports that differ are
put in separate groups, each ranked on its own, never mixed.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.compare.inputs import Loaded
from grader.report import figures as fig
from grader.report.model import Load, LoadScenario, Report
from grader.report.score import assess, rank_key

APP_ERROR = "the app does not start"  # the pipeline's red flag for it, in reports written before its id was "app"


@dataclass(frozen=True)
class Candidate:
    label: str  # the submission's name, with its directory when two share a name
    path: Path  # the report.json
    report: Report

    @functools.cached_property
    def scored(self) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """(score, red flags) recomputed from the report's facts with this grader's catalogue, so a change of
        weights re-ranks old reports without re-grading; the stored ones are not read."""
        stored = self.report.red_flags
        app = next((f for f in stored if f.id == "app" or f.title.startswith(APP_ERROR)), None)
        return assess(self.report.model_dump(mode="json"), app_error=app.title if app else None)

    @property
    def score(self) -> dict[str, Any] | None:
        return self.scored[0]

    @property
    def overall(self) -> float | None:
        return fig.number((self.score or {}).get("overall"))

    @property
    def red_flags(self) -> list[dict[str, Any]]:
        return self.scored[1]

    @property
    def band(self) -> str | None:
        return ((self.score or {}).get("scorecard") or {}).get("band")

    @property
    def load(self) -> Load:
        return self.report.load

    def index(self, key: str) -> float | None:
        """A figure of the load index (candidate ÷ reference), None when the load phase gave none."""
        if self.load.status != "ran" or self.load.index is None:
            return None
        value: float | None = getattr(self.load.index, key)
        return value

    def scenario(self, name: str) -> LoadScenario | None:
        return self.load.scenario(name)

    def key(self) -> tuple[str, ...]:
        """What must match for two reports to be compared: grader version, scenario set and kit version."""
        grader = self.report.environment.grader_version
        if self.load.status != "ran":
            return (grader, "load skipped", "")
        kit = self.load.reference.kit_version if self.load.reference else None
        scenario_set = ",".join(self.load.scenario_set)
        return (grader, scenario_set, json.dumps(kit, sort_keys=True) if kit else "no reference")


@dataclass(frozen=True)
class Group:
    key: tuple[str, ...]
    candidates: list[Candidate]

    def describe(self) -> str:
        grader, scenario_set, kit = self.key
        text = f"grader {grader}"
        if scenario_set == "load skipped":
            return text + ", load phase skipped (scorecards only)"
        text += f", scenarios: {scenario_set.replace(',', ', ') or 'none'}"
        if kit == "no reference":
            return text + ", no reference run (no load index)"
        parts = json.loads(kit)
        shown = ", ".join(f"{name} {str(value)[:8]}" for name, value in parts.items() if name != "grader")
        return f"{text}, kit {shown}"

    def scenario_names(self) -> list[str]:
        names: dict[str, None] = {}
        for candidate in self.candidates:
            names |= dict.fromkeys(s.name for s in candidate.load.scenarios)
        return list(names)


def candidates(loaded: Sequence[Loaded]) -> list[Candidate]:
    names = Counter(item.report.submission.name for item in loaded)
    labels: Counter[str] = Counter()
    shown = []
    for item in loaded:
        name = item.report.submission.name
        label = name if names[name] == 1 else f"{name} ({item.path.parent.name})"
        labels[label] += 1
        shown.append(Candidate(label if labels[label] == 1 else f"{label} #{labels[label]}", item.path, item.report))
    return shown


def groups(given: Sequence[Candidate]) -> list[Group]:
    """Comparable reports together; the largest group first (ties: the group of the earliest given report)."""
    by_key: dict[tuple[str, ...], list[Candidate]] = {}
    for candidate in given:
        by_key.setdefault(candidate.key(), []).append(candidate)
    ordered = sorted(by_key.items(), key=lambda item: -len(item[1]))  # stable: earliest first among equals
    return [Group(key, members) for key, members in ordered]


Ranked = list[tuple[int | None, Candidate]]


def _rank(members: Sequence[Candidate], sort_key: Callable[[Candidate], tuple[Any, ...] | None]) -> Ranked:
    """Competition ranking (1, 2, 2, 4) on `sort_key`; a None key is unranked and listed last."""
    keyed = [(sort_key(c), c) for c in members]
    ranked = sorted(((k, c) for k, c in keyed if k is not None), key=lambda item: (item[0], item[1].label))
    shown: Ranked = []
    for position, (k, candidate) in enumerate(ranked):
        same = position > 0 and ranked[position - 1][0] == k
        shown.append((shown[-1][0] if same else position + 1, candidate))
    return shown + [(None, c) for k, c in keyed if k is None]


def by_score(members: Sequence[Candidate]) -> Ranked:
    """Honest submissions first (integrity findings and deliberate tampering last), then by recommendation band,
    then highest score, then fewer red flags (grader/report/score.py: rank_key). A grade that errored is unranked."""
    return _rank(members, lambda c: rank_key(*c.scored))


def by_latency(members: Sequence[Candidate]) -> Ranked:
    """Lowest load index p95 first (candidate ÷ reference; lower is better). No index: unranked."""
    return _rank(members, lambda c: None if (p95 := c.index("p95")) is None else (p95,))
