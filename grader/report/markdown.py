"""report.md: the report for a human, red flags first."""

from __future__ import annotations

import re

from grader.report import figures as fig
from grader.report.model import Endpoint, Load, LoadScenario, Ratios, Report

_INLINE_MARKUP = re.compile(r"[\\`*_\[\]<>&|~]")  # mid-line: `#`, `+` and `(` mark nothing there
VERDICT_MARK = {"fixed": "✅ fixed", "present": "❌ present", "inconclusive": "⚠️ inconclusive"}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _inline(text: object) -> str:
    """Running text: Markdown's inline markup characters taken literally, on one line."""
    return _INLINE_MARKUP.sub(r"\\\g<0>", " ".join(str(text).split()))


def render(report: Report) -> str:
    submission, score, environment = report.submission, report.score, report.environment
    lines = [f"# Grade: {submission.name}", ""]
    if report.status == "error":
        lines += [f"**No grade could be produced:** {report.error}", ""]
    lines += [
        f"- source: `{submission.source}` ({submission.kind or '?'}), content sha256 "
        f"`{(submission.content_hash or '')[:16]}`",
        f"- grader {environment.grader_version}, kit commit "
        f"`{environment.kit_commit or 'unknown'}`, seed {environment.seed}",
        *([f"- sandbox: {_inline(environment.sandbox)}"] if environment.sandbox else []),
        f"- took {report.seconds:.0f} s",
        "",
    ]
    if score:
        lines += [f"## Score: {score.overall:g} / 100", ""]
        if partial := score.partial:
            lines += [
                f"Partial: {len(partial.not_probed)} bugs were not probed ({partial.because}) and earn no "
                f"credit: {', '.join(partial.not_probed)}.",
                "",
            ]
        if score.contract_cap < 100:
            lines += [
                f"Capped at {score.contract_cap:g} by contract failures (probes alone: {score.uncapped:g}).",
                "",
            ]
        lines += ["| category | score | fixed |", "| --- | ---: | ---: |"]
        lines += [f"| {name} | {c.score:g} | {c.fixed}/{c.bugs} |" for name, c in score.categories.items()]
        lines.append("")
    if report.red_flags:
        lines += ["## Red flags", ""]
        lines += [f"- **{flag.title}** ({flag.id}) {flag.message}" for flag in report.red_flags]
        lines.append("")
    if contract := report.contract:
        lines += [f"## Contract: {contract.passed} passed, {contract.failed} failed", ""]
        failures = [case for case in contract.cases if case.outcome != "passed"]
        lines += [f"- ✗ `{case.name}`: {_cell(case.message)}" for case in failures] or ["Every case passed."]
        lines.append("")
    if report.bugs:
        lines += ["## Bugs", "", "| bug | category | verdict | measured |", "| --- | --- | --- | --- |"]
        lines += [
            f"| `{bug.id}` | {bug.category} | {VERDICT_MARK[bug.verdict]} | {_cell(bug.message)} |"
            for bug in report.bugs
        ]
        lines.append("")
    lines += _load(report.load)
    lines += ["## Phases", "", "| phase | status | seconds | error |", "| --- | --- | ---: | --- |"]
    lines += [f"| {p.name} | {p.status} | {p.seconds:.1f} | {_cell(p.error or '')} |" for p in report.phases]
    return "\n".join(lines) + "\n"


def _load(load: Load) -> list[str]:
    if load.status != "ran":
        return [f"## Load: skipped ({_cell(load.reason or 'the load phase did not run')})", ""]
    lines = [
        f"## Load: {len(load.scenarios)} scenarios",
        "",
        f"- reference: {_cell(fig.provenance_text(load.reference))}",
        f"- index: {fig.index_text(load.index)}",
        f"- ratios are {fig.RATIO_NOTE}",
        "",
    ]
    for scenario in load.scenarios:
        lines += _scenario(scenario)
    return lines


def _scenario(scenario: LoadScenario) -> list[str]:
    valid = "valid" if scenario.valid else "⚠️ INVALID, not to be trusted"
    lines = [f"### {_cell(scenario.title or scenario.name)} (`{scenario.name}`): {valid}", ""]
    lines += [f"{_cell(fig.setup_text(scenario))}.", ""]
    if reasons := scenario.invalid_reasons:
        lines += [f"- invalid: {_cell(reason)}" for reason in reasons] + [""]
    ratios = scenario.ratios or {}
    lines += [
        "| endpoint | requests | errors | not 2xx, by status | req/s | "
        + " | ".join(f"{label} ms" for label, _ in fig.PERCENTILES)
        + " | max ms | samples |",
        "| --- | ---: | ---: | --- | ---: | " + " | ".join("---:" for _ in fig.PERCENTILES) + " | ---: | ---: |",
    ]
    for name, figures in scenario.candidate.endpoints.items():
        lines.append(_endpoint_row(name, figures, ratios.get(name) or Ratios()))
    lines.append("")
    reference = scenario.reference
    if reference is not None and (total := reference.endpoints.get(fig.TOTAL)):
        lines += [
            f"Reference, all requests: {fig.rate(total.throughput_rps)} req/s, "
            + ", ".join(f"{label} {fig.ms(getattr(total, key))} ms" for label, key in fig.PERCENTILES)
            + f", errors {total.errors} of {total.requests}. "
            f"Each cell's {fig.TIMES} is the candidate's figure over the reference's.",
            "",
        ]
    elif reference is None:
        lines += ["No reference run for this scenario: no ratios.", ""]
    return lines


def _endpoint_row(name: str, figures: Endpoint, ratios: Ratios) -> str:
    def with_ratio(text: str, key: str) -> str:
        value = getattr(ratios, key, None)
        return f"{text} ({fig.ratio(value)})" if value is not None else text

    cells = [
        f"**{_cell(name)}**" if name == fig.TOTAL else f"`{_cell(name)}`",
        str(figures.requests),
        str(figures.errors),
        _cell(fig.statuses_text(figures.statuses)),
        with_ratio(fig.rate(figures.throughput_rps), "throughput"),
        *(with_ratio(fig.ms(getattr(figures, key)), label) for label, key in fig.PERCENTILES),
        fig.ms(figures.max_ms),
        str(figures.samples),
    ]
    return "| " + " | ".join(cells) + " |"
