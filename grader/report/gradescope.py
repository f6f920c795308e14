"""results.json in Gradescope's autograder format: one test per bug, the contract as one more."""

from __future__ import annotations

from typing import Any


def render(report: dict[str, Any]) -> dict[str, Any]:
    score = report.get("score") or {"overall": 0}
    tests: list[dict[str, Any]] = []
    contract = report.get("contract")
    if contract:
        tests.append(
            {
                "name": "HTTP contract",
                "status": "passed" if not contract["failed"] else "failed",
                "output": f"{contract['passed']} passed, {contract['failed']} failed",
            }
        )
    tests += [
        {
            "name": f"{bug['category']}: {bug['title']}",
            "status": "passed" if bug["verdict"] == "fixed" else "failed",
            "output": f"{bug['verdict']}: {bug['message']}",
        }
        for bug in report["bugs"]
    ]
    return {"score": score["overall"], "output": report.get("error") or "", "tests": tests}
