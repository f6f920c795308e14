"""report.md: the report for a human, red flags first."""

from __future__ import annotations

from typing import Any

VERDICT_MARK = {"fixed": "✅ fixed", "present": "❌ present", "inconclusive": "⚠️ inconclusive"}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(report: dict[str, Any]) -> str:
    submission, score = report["submission"], report.get("score") or {}
    lines = [f"# Grade: {submission['name']}", ""]
    if report["status"] == "error":
        lines += [f"**No grade could be produced:** {report['error']}", ""]
    lines += [
        f"- source: `{submission['source']}` ({submission.get('kind', '?')}), content sha256 "
        f"`{(submission.get('content_hash') or '')[:16]}`",
        f"- grader {report['environment']['grader_version']}, kit commit "
        f"`{report['environment'].get('kit_commit') or 'unknown'}`, seed {report['environment']['seed']}",
        f"- took {report.get('seconds', 0):.0f} s",
        "",
    ]
    if score:
        lines += [f"## Score: {score['overall']:g} / 100", ""]
        if score["contract_cap"] < 100:
            lines += [
                f"Capped at {score['contract_cap']:g} by contract failures (probes alone: {score['uncapped']:g}).",
                "",
            ]
        lines += ["| category | score | fixed |", "| --- | ---: | ---: |"]
        lines += [f"| {name} | {c['score']:g} | {c['fixed']}/{c['bugs']} |" for name, c in score["categories"].items()]
        lines.append("")
    if report.get("red_flags"):
        lines += ["## Red flags", ""]
        lines += [f"- **{flag['title']}** ({flag['id']}) {flag['message']}" for flag in report["red_flags"]]
        lines.append("")
    contract = report.get("contract") or {}
    if contract:
        lines += [f"## Contract: {contract['passed']} passed, {contract['failed']} failed", ""]
        failures = [case for case in contract["cases"] if case["outcome"] != "passed"]
        lines += [f"- ✗ `{case['name']}`: {_cell(case['message'])}" for case in failures] or ["Every case passed."]
        lines.append("")
    if report.get("bugs"):
        lines += ["## Bugs", "", "| bug | category | verdict | measured |", "| --- | --- | --- | --- |"]
        lines += [
            f"| `{bug['id']}` | {bug['category']} | {VERDICT_MARK.get(bug['verdict'], bug['verdict'])} "
            f"| {_cell(bug['message'])} |"
            for bug in report["bugs"]
        ]
        lines.append("")
    lines += ["## Phases", "", "| phase | status | seconds | error |", "| --- | --- | ---: | --- |"]
    lines += [
        f"| {p['name']} | {p['status']} | {p['seconds']:.1f} | {_cell(p.get('error') or '')} |"
        for p in report.get("phases", [])
    ]
    return "\n".join(lines) + "\n"
