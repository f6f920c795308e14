"""report.json's declared shape: old reports still read, the published schema is current, NaN never written."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from _reports import schema_problems
from pydantic import ValidationError

from grader.pipeline import Grade, Options, build_report
from grader.probes import ProbeResult
from grader.report.model import SCHEMA_PATH, Report, dump_json, problem, schema_text

SAMPLE = Path(__file__).parent / "data" / "report.json"  # a real grade's report, written before the model


@pytest.fixture
def sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    return data


def test_the_published_schema_is_the_models() -> None:
    """grader/report/report.schema.json is what the model generates now (run `make schema` after a change)."""
    assert SCHEMA_PATH.read_text() == schema_text()


def test_a_report_written_before_the_model_validates(sample: dict[str, Any]) -> None:
    """The sample (no `tampering`, no `bugs[].integrity`, a legacy `reports` per scenario) reads as a Report."""
    report = Report.model_validate(sample)
    assert report.tampering == []
    assert report.bugs[0].integrity == []
    assert schema_problems(sample) == []


def test_what_is_written_reads_back_the_same(sample: dict[str, Any]) -> None:
    """dump_json's output validates against the schema and parses back to the same report."""
    report = Report.model_validate(sample)
    written = json.loads(dump_json(report))
    assert schema_problems(written) == []
    assert Report.model_validate(written).model_dump() == report.model_dump()  # the legacy `reports` dropped


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r.update(bogus=1), "bogus"),
        (lambda r: r["bugs"][0].update(verdict="maybe"), "bugs.0.verdict"),
        (lambda r: r["load"]["scenarios"][0]["candidate"]["endpoints"]["all requests"].pop("requests"), "requests"),
    ],
    ids=["unknown-field", "bad-choice", "missing-field"],
)
def test_a_wrong_report_is_refused_by_model_and_schema(sample: dict[str, Any], change: Any, field: str) -> None:
    """An undeclared key, a verdict outside the choices, a missing figure: refused by both, naming the field."""
    wrong = copy.deepcopy(sample)
    change(wrong)
    with pytest.raises(ValidationError) as caught:
        Report.model_validate(wrong)
    assert field in problem(caught.value)
    assert schema_problems(wrong) != []


def test_nan_in_evidence_is_refused_on_write(sample: dict[str, Any]) -> None:
    """A NaN a probe put in its free-form evidence never reaches report.json (it is not JSON)."""
    report = Report.model_validate(sample)
    report.bugs[0].evidence["ratio"] = math.nan
    with pytest.raises(ValueError, match="not JSON compliant"):
        dump_json(report)


def test_nan_in_a_declared_figure_is_refused_on_read(sample: dict[str, Any]) -> None:
    """A NaN where the model declares a number fails validation, naming the field."""
    sample["seconds"] = math.nan
    with pytest.raises(ValidationError) as caught:
        Report.model_validate(sample)
    assert problem(caught.value).startswith("seconds")


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (lambda r: r.pop("load"), "no load"),
        (lambda r: r["score"].update(overall="high"), "score.overall is not float"),
        (lambda r: r.update(extra=1), "extra: unknown field"),
    ],
    ids=["missing", "type", "unknown"],
)
def test_a_validation_error_reads_as_one_line(sample: dict[str, Any], change: Any, line: str) -> None:
    """problem(): the first error as `no X`, `X is not T` or `X: unknown field`."""
    change(sample)
    with pytest.raises(ValidationError) as caught:
        Report.model_validate(sample)
    assert problem(caught.value) == line


def test_a_probe_that_measured_nan_still_gets_its_report() -> None:
    """A percentile of no samples (NaN) in a probe's value or evidence is written as null, never a crash."""
    grade = Grade(Options(seed=1, only=("sync-db-driver",)))
    nan = float("nan")
    grade.probes = {
        "sync-db-driver": ProbeResult("sync-db-driver", "present", "m", nan, "> 200", "x", {"health_ms": {"p50": nan}})
    }
    report = build_report(grade, "submission")
    bug = next(b for b in report.bugs if b.id == "sync-db-driver")
    assert bug.value is None
    assert bug.evidence["health_ms"] == {"p50": None}
    assert "NaN" not in dump_json(report)
