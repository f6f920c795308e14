"""report.md's load section: per-endpoint figures with their ratios, validity, the reference's provenance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grader.report import markdown
from grader.report.figures import TIMES as X
from grader.report.model import Report

SAMPLE = Path(__file__).parent / "data" / "report.json"  # a real grade's report, trimmed to two scenarios


@pytest.fixture
def report() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    return data


def _section(text: str, heading: str) -> str:
    """From `heading` to the next heading of the same or a higher level."""
    start = text.index(heading)
    level = heading.split(" ", 1)[0]
    rest = text[start + len(heading) :]
    ends = [rest.find(f"\n{'#' * n} ") for n in range(2, len(level) + 1)]
    found = [end for end in ends if end >= 0]
    return text[start : start + len(heading) + (min(found) if found else len(rest))]


def _rows(section: str) -> dict[str, list[str]]:
    """Table rows by their first cell (backticks and bold removed)."""
    rows = {}
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            rows[cells[0].strip("`*")] = cells
    return rows


def test_each_endpoint_has_its_figures_ratios_and_sample_count(report: dict[str, Any]) -> None:
    """One row per endpoint: requests, errors with the non-2xx statuses, req/s, percentiles with ratios, samples."""
    text = markdown.render(Report.model_validate(report))
    section = _section(text, "### Catalogue reads (`catalogue-reads`): valid")
    rows = _rows(section)
    assert rows["endpoint"] == [
        "endpoint", "requests", "errors", "not 2xx, by status", "req/s",
        "p50 ms", "p90 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms", "samples",
    ]  # fmt: skip
    assert rows["GET /products/{product_id}"] == [
        "`GET /products/{product_id}`", "234", "22", "unfinished: 22", f"33.4 (0.04{X})",
        f"612.9 (26.7{X})", "703.0", f"729.6 (18.6{X})", f"776.2 (16.6{X})", "849.4", "849.4", "234",
    ]  # fmt: skip
    assert rows["all requests"][1:4] == ["379", "31", "unfinished: 31"]
    assert "Reference, all requests: 1,322.3 req/s, p50 22.1 ms" in section
    degraded = _rows(_section(text, "### Degraded payments API (`degraded-upstream`): valid"))
    assert degraded["POST /orders"][3] == "502: 4, unfinished: 10"


def test_the_load_header_gives_provenance_and_index(report: dict[str, Any]) -> None:
    """Where the reference came from, with its note, and the index line with what a ratio means."""
    head = _section(markdown.render(Report.model_validate(report)), "## Load: 2 scenarios")
    assert "- reference: fresh: run in this grading session (and cached for this machine and kit)" in head
    assert "(measured 2026-11-27T23:07:47+00:00)" in head
    assert f"- index: throughput 0.17{X} · p50 27.4{X} · p95 3.93{X} · p99 3.79{X} (geometric mean over 2 valid" in head
    assert f"latency above 1{X} is slower than the reference" in head


def test_an_invalid_scenario_says_so_and_why(report: dict[str, Any]) -> None:
    """The heading says INVALID and each reason is listed under it."""
    reason = "too few requests measured (3, at least 20)"
    report["load"]["scenarios"][0] |= {"valid": False, "invalid_reasons": [reason]}
    section = _section(markdown.render(Report.model_validate(report)), "### Catalogue reads")
    assert section.splitlines()[0].endswith("⚠️ INVALID, not to be trusted")
    assert f"- invalid: {reason}" in section


def test_skipped_load_and_a_missing_reference_read_plainly(report: dict[str, Any]) -> None:
    """Load skipped: its reason, no tables. No reference: no ratios in the cells, and the page says why."""
    skipped = dict(report, load={"status": "skipped", "reason": "--skip-load"})
    assert "## Load: skipped (--skip-load)" in markdown.render(Report.model_validate(skipped))
    assert "| endpoint |" not in markdown.render(Report.model_validate(skipped))
    report["load"]["reference"] = {"source": "none", "note": "no reference run (--reference none): no ratios"}
    report["load"]["index"] = {"throughput": None, "p50": None, "p95": None, "p99": None, "scenarios": 0}
    for scenario in report["load"]["scenarios"]:
        scenario |= {"reference": None, "ratios": None}
    text = markdown.render(Report.model_validate(report))
    assert "- reference: none: no reference run (--reference none): no ratios" in text
    assert "- index: no index: no valid scenario has a reference to compare with" in text
    assert "No reference run for this scenario: no ratios." in text
    assert f"{X})" not in _section(text, "### Catalogue reads")


def test_an_errored_grade_still_renders(report: dict[str, Any]) -> None:
    """status "error" with no score, no contract and load skipped: the reason first, no crash."""
    report |= {"status": "error", "error": "the app does not start", "score": None, "contract": None}
    report["load"] = {"status": "skipped", "reason": "the app does not start"}
    text = markdown.render(Report.model_validate(report))
    assert "**No grade could be produced:** the app does not start" in text
    assert "## Load: skipped (the app does not start)" in text


def test_the_header_says_how_the_app_was_confined(report: dict[str, Any]) -> None:
    """report.json's environment.sandbox is a header line, its Markdown markup inert; an older report has none."""
    report["environment"]["sandbox"] = "account kit_app; no mount namespace (unshare: <EPERM> *x* [a](b))"
    header = markdown.render(Report.model_validate(report)).split("\n## ", 1)[0]
    sandbox = [line for line in header.splitlines() if line.startswith("- sandbox: ")]
    assert sandbox == [r"- sandbox: account kit\_app; no mount namespace (unshare: \<EPERM\> \*x\* \[a\](b))"]
    del report["environment"]["sandbox"]
    assert "- sandbox:" not in markdown.render(Report.model_validate(report))
