"""The reports to compare: arguments (directories, report.json files, globs) to validated reports.

Anything wrong with what was given is a CompareError with a one-line reason; a report that passes `check`
is a `Report` (grader.report.model), so rendering never meets a surprise.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from grader.report.model import SCHEMA_VERSION, Report, problem

GLOB_CHARS = frozenset("*?[")


class CompareError(ValueError):
    """What was given cannot be compared (one-line reason)."""


@dataclass(frozen=True)
class Loaded:
    path: Path  # the report.json
    report: Report


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
    return Loaded(path, check(data, str(path)))


def check(report: object, where: str) -> Report:
    """The report `report` holds, or CompareError naming `where` and the first field that is wrong."""
    if not isinstance(report, dict) or not {"schema_version", "submission", "bugs"} <= report.keys():
        raise CompareError(f"{where}: not a grader report (no schema_version, submission and bugs)")
    if report["schema_version"] != SCHEMA_VERSION:
        raise CompareError(
            f"{where}: report schema_version {report['schema_version']!r}, this grader reads {SCHEMA_VERSION}"
        )
    try:
        return Report.model_validate(report)
    except ValidationError as exc:
        raise CompareError(f"{where}: malformed report: {problem(exc)}") from None
