"""The reports to compare: arguments (directories, report.json files, globs) to checked report dicts.

Anything wrong with what was given is a CompareError with a one-line reason; a report that passes `check`
has every field the comparison reads, of the type it reads, so rendering never meets a surprise.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
GLOB_CHARS = frozenset("*?[")


class CompareError(ValueError):
    """What was given cannot be compared (one-line reason)."""


@dataclass(frozen=True)
class Loaded:
    path: Path  # the report.json
    report: dict[str, Any]


def expand(arguments: Sequence[str]) -> tuple[list[Path], list[str]]:
    """(report.json paths, notes). A named directory must hold a report.json (a named file is taken as one); a
    glob's directories without one are passed over with a note (`reports/*` also matches earlier comparisons)
    and its other files are ignored, but a glob matching no report at all fails."""
    found: list[Path] = []
    notes: list[str] = []
    for argument in arguments:
        if GLOB_CHARS & set(argument):
            matches = [Path(match) for match in sorted(glob.glob(argument))]
            reports = [m / "report.json" if m.is_dir() else m for m in matches if m.is_dir() or m.name == "report.json"]
            notes += [f"passed over {report.parent}: no report.json" for report in reports if not report.is_file()]
            reports = [report for report in reports if report.is_file()]
            if not reports:
                raise CompareError(f"{argument}: matches no directory holding a report.json")
            found += reports
            continue
        path = Path(argument)
        if not path.exists():
            raise CompareError(f"{argument}: no such file or directory")
        if path.is_dir() and not (path / "report.json").is_file():
            raise CompareError(f"{argument}: no report.json in this directory")
        found.append(path / "report.json" if path.is_dir() else path)
    unique = list(dict.fromkeys(path.resolve() for path in found))
    if not unique:
        raise CompareError("no reports given")
    return unique, notes


def load(path: Path) -> Loaded:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CompareError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise CompareError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    check(data, str(path))
    return Loaded(path, data)


def check(report: object, where: str) -> None:
    """Raise CompareError unless `report` is a grader report with the fields a comparison reads."""
    if not isinstance(report, dict) or not {"schema_version", "submission", "bugs"} <= report.keys():
        raise CompareError(f"{where}: not a grader report (no schema_version, submission and bugs)")
    if report["schema_version"] != SCHEMA_VERSION:
        raise CompareError(f"{where}: report schema_version {report['schema_version']!r}, this grader reads 1")
    need = _Need(where)
    if need(report, "status", str) not in {"graded", "error"}:
        raise CompareError(f"{where}: status must be graded or error")
    need(report["submission"], "name", str, "submission")
    need(report["environment"] if isinstance(report.get("environment"), dict) else None, "grader_version", str,
         "environment")  # fmt: skip
    if (score := need(report, "score", dict, optional=True)) is not None:
        need(score, "overall", float, "score")
        for name, category in need(score, "categories", dict, "score").items():
            need(category, "score", float, f"score.categories.{name}")
    for flag in need(report, "red_flags", list):
        need(flag, "title", str, "red_flags[]")
    if (contract := need(report, "contract", dict, optional=True)) is not None:
        need(contract, "passed", int, "contract")
        need(contract, "failed", int, "contract")
    load = need(report, "load", dict)
    if need(load, "status", str, "load") == "ran":
        _check_load(load, need)


def _check_load(load: dict[str, Any], need: _Need) -> None:
    for name in need(load, "scenario_set", list, "load"):
        if not isinstance(name, str):
            raise CompareError(f"{need.where}: load.scenario_set holds a non-string")
    reference = need(load, "reference", dict, "load")
    if "kit_version" in reference:  # absent when no reference ran
        need(reference, "kit_version", dict, "load.reference", optional=True)
    if (index := need(load, "index", dict, "load", optional=True)) is not None:
        for key in ("throughput", "p50", "p95", "p99"):
            need(index, key, float, "load.index", optional=True)
    for scenario in need(load, "scenarios", list, "load"):
        need(scenario, "name", str, "load.scenarios[]")
        need(scenario, "valid", bool, "load.scenarios[]")
        for endpoint, ratios in (need(scenario, "ratios", dict, "load.scenarios[]", optional=True) or {}).items():
            for key in ("throughput", "p95"):
                need(ratios, key, float, f"load.scenarios[].ratios.{endpoint}", optional=True)


class _Need:
    """Fetch a field, or fail naming the file and the field."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __call__(self, parent: object, key: str, kind: type, path: str = "", *, optional: bool = False) -> Any:
        name = f"{path}.{key}" if path else key
        if not isinstance(parent, dict):
            raise CompareError(f"{self.where}: malformed report: {path or 'the top level'} is not an object")
        if key not in parent:
            raise CompareError(f"{self.where}: malformed report: no {name}")
        value = parent[key]
        if value is None and optional:
            return None
        wanted: tuple[type, ...] = (int, float) if kind is float else (kind,)
        if not isinstance(value, wanted) or (kind is not bool and isinstance(value, bool)):
            raise CompareError(f"{self.where}: malformed report: {name} is not {kind.__name__}")
        return value
