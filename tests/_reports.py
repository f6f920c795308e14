"""Every report.json the tests write is checked against the published JSON Schema (grader/report/report.schema.json)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

from grader.report.model import SCHEMA_PATH


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def schema_problems(report: Any) -> list[str]:
    """Every way `report` breaks the schema, one line each (empty: it validates)."""
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in _validator().iter_errors(report)]


def assert_valid_report(path: Path) -> dict[str, Any]:
    """report.json at `path`: valid JSON (no NaN) that the schema accepts; its content."""
    report: dict[str, Any] = json.loads(path.read_text(), parse_constant=_refuse)
    assert schema_problems(report) == [], f"{path} breaks report.schema.json"
    return report


def _refuse(constant: str) -> None:
    raise AssertionError(f"report.json holds {constant}, which is not JSON")
