"""results.json in Gradescope's autograder format: one test per bug, the contract as one more."""

from __future__ import annotations

from typing import Any

from grader.report.model import Report


def render(report: Report) -> dict[str, Any]:
    tests: list[dict[str, Any]] = []
    if contract := report.contract:
        tests.append(
            {
                "name": "HTTP contract",
                "status": "passed" if not contract.failed else "failed",
                "output": f"{contract.passed} passed, {contract.failed} failed",
            }
        )
    tests += [
        {
            "name": f"{bug.category}: {bug.title}",
            "status": "passed" if bug.verdict == "fixed" else "failed",
            "output": f"{bug.verdict}: {bug.message}",
        }
        for bug in report.bugs
    ]
    return {"score": report.score.overall if report.score else 0, "output": report.error or "", "tests": tests}
