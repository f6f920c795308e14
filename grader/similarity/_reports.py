"""Similarity from grade reports: each grade keeps the submission's Python files beside its report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from grader.environment import ROOT
from grader.similarity._core import Pair, cohort, read_python

CODE_DIR = "code"  # under a grade's --out: the submission's .py files and NOTES.md, as graded


def _name(report_dir: Path) -> str:
    try:
        report = json.loads((report_dir / "report.json").read_text())
        return str(report["submission"]["name"])
    except (OSError, ValueError, KeyError, TypeError):
        return report_dir.name


def similarity_of_reports(report_dirs: Sequence[Path]) -> tuple[list[Pair], list[str]]:
    """Pairs ranked most similar first, and notes on reports that hold no code to compare."""
    submissions: dict[str, dict[str, str]] = {}
    notes = []
    for directory in report_dirs:
        code = directory / CODE_DIR
        files = read_python(code) if code.is_dir() else {}
        if not files:
            notes.append(f"{directory}: no {CODE_DIR}/ beside the report (graded before it was kept); left out")
            continue
        name = _name(directory)
        while name in submissions:  # two grades of one name: keep both apart
            name += "'"
        submissions[name] = files
    if not submissions:
        return [], notes
    return cohort(submissions, read_python(ROOT / "exercise"), read_python(ROOT / "solution")), notes
