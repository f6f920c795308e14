"""report.md: the report for a human, red flags first."""

from __future__ import annotations

import re
from typing import Any

from grader.report import figures as fig

_INLINE_MARKUP = re.compile(r"[\\`*_\[\]<>&|~]")  # mid-line: `#`, `+` and `(` mark nothing there
VERDICT_MARK = {"fixed": "✅ fixed", "present": "❌ present", "inconclusive": "⚠️ inconclusive"}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _inline(text: object) -> str:
    """Running text: Markdown's inline markup characters taken literally, on one line."""
    return _INLINE_MARKUP.sub(r"\\\g<0>", " ".join(str(text).split()))


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
        *([f"- sandbox: {_inline(sandbox)}"] if (sandbox := report["environment"].get("sandbox")) else []),
        f"- took {report.get('seconds', 0):.0f} s",
        "",
    ]
    if score:
        lines += [f"## Score: {score['overall']:g} / 100", ""]
        if partial := score.get("partial"):
            lines += [
                f"Partial: {len(partial['not_probed'])} bugs were not probed ({partial['because']}) and earn no "
                f"credit: {', '.join(partial['not_probed'])}.",
                "",
            ]
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
    lines += _load(report.get("load") or {})
    lines += ["## Phases", "", "| phase | status | seconds | error |", "| --- | --- | ---: | --- |"]
    lines += [
        f"| {p['name']} | {p['status']} | {p['seconds']:.1f} | {_cell(p.get('error') or '')} |"
        for p in report.get("phases", [])
    ]
    return "\n".join(lines) + "\n"


def _load(load: dict[str, Any]) -> list[str]:
    if load.get("status") != "ran":
        return [f"## Load: skipped ({_cell(load.get('reason') or 'the load phase did not run')})", ""]
    scenarios = load.get("scenarios") or []
    reference = load.get("reference") or {}
    lines = [
        f"## Load: {len(scenarios)} scenarios",
        "",
        f"- reference: {_cell(fig.provenance_text(reference))}",
        f"- index: {fig.index_text(load.get('index'))}",
        f"- ratios are {fig.RATIO_NOTE}",
        "",
    ]
    for scenario in scenarios:
        lines += _scenario(scenario)
    return lines


def _scenario(scenario: dict[str, Any]) -> list[str]:
    valid = "valid" if scenario.get("valid") else "⚠️ INVALID, not to be trusted"
    lines = [f"### {_cell(scenario.get('title') or scenario.get('name'))} (`{scenario.get('name')}`): {valid}", ""]
    lines += [f"{_cell(fig.setup_text(scenario))}.", ""]
    if reasons := scenario.get("invalid_reasons"):
        lines += [f"- invalid: {_cell(reason)}" for reason in reasons] + [""]
    if breaches := scenario.get("integrity_breaches"):  # the books read back after the run
        lines += [f"- ❌ books: {_cell(breach)}" for breach in breaches] + [""]
    candidate, reference = scenario.get("candidate") or {}, scenario.get("reference")
    ratios = scenario.get("ratios") or {}
    lines += [
        "| endpoint | requests | errors | not 2xx, by status | req/s | "
        + " | ".join(f"{label} ms" for label, _ in fig.PERCENTILES)
        + " | max ms | samples |",
        "| --- | ---: | ---: | --- | ---: | " + " | ".join("---:" for _ in fig.PERCENTILES) + " | ---: | ---: |",
    ]
    for name, figures in (candidate.get("endpoints") or {}).items():
        lines.append(_endpoint_row(name, figures, ratios.get(name) or {}))
    lines.append("")
    total = (reference or {}).get("endpoints", {}).get(fig.TOTAL)
    if total:
        lines += [
            f"Reference, all requests: {fig.rate(total.get('throughput_rps'))} req/s, "
            + ", ".join(f"{label} {fig.ms(total.get(key))} ms" for label, key in fig.PERCENTILES)
            + f", errors {total.get('errors', 0)} of {total.get('requests', 0)}. "
            f"Each cell's {fig.TIMES} is the candidate's figure over the reference's.",
            "",
        ]
    elif reference is None:
        lines += ["No reference run for this scenario: no ratios.", ""]
    return lines


def _endpoint_row(name: str, figures: dict[str, Any], ratios: dict[str, Any]) -> str:
    def with_ratio(text: str, key: str) -> str:
        return f"{text} ({fig.ratio(ratios[key])})" if ratios.get(key) is not None else text

    cells = [
        f"**{_cell(name)}**" if name == fig.TOTAL else f"`{_cell(name)}`",
        str(figures.get("requests", "—")),
        str(figures.get("errors", "—")),
        _cell(fig.statuses_text(figures.get("statuses") or {})),
        with_ratio(fig.rate(figures.get("throughput_rps")), "throughput"),
        *(with_ratio(fig.ms(figures.get(key)), label) for label, key in fig.PERCENTILES),
        fig.ms(figures.get("max_ms")),
        str(figures.get("samples", "—")),
    ]
    return "| " + " | ".join(cells) + " |"
