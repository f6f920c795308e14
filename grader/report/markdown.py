"""report.md: the report for a human, red flags first."""

from __future__ import annotations

import re
from typing import Any

from grader.guide import markdown as guide_markdown
from grader.report import figures as fig
from grader.report.model import Endpoint, Load, LoadScenario, Ratios, Report

_INLINE_MARKUP = re.compile(r"[\\`*_\[\]<>&|~]")  # mid-line: `#`, `+` and `(` mark nothing there
VERDICT_MARK = {"fixed": "✅ fixed", "present": "❌ present", "inconclusive": "⚠️ unverified"}
STATE_MARK = {"fixed": "✅ fixed", "present": "❌ present", "unverified": "⚠️ unverified", "measured": "measured",
              "invalid": "⚠️ invalid"}  # fmt: skip


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
    # red flags and the scorecard read their sections as plain data (compare recomputes them the same way)
    lines += red_flags([flag.model_dump(mode="json") for flag in report.red_flags])
    lines += scorecard(score.model_dump(mode="json") if score else {})
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
    lines += _app_log(report.asyncio_debug.get("app_log") or {})
    lines += _load(report.load)
    if guide := report.guide:
        lines += guide_markdown(guide.model_dump(), heading="##")
    lines += ["## Phases", "", "| phase | status | seconds | error |", "| --- | --- | ---: | --- |"]
    lines += [f"| {p.name} | {p.status} | {p.seconds:.1f} | {_cell(p.error or '')} |" for p in report.phases]
    return "\n".join(lines) + "\n"


def red_flags(flags: list[dict[str, Any]]) -> list[str]:
    """First in every report: the integrity flag (with its evidence), then the others, each with its state."""
    if not flags:
        return ["## Red flags", "", "None.", ""]
    lines = ["## Red flags", ""]
    for flag in flags:
        lines.append(f"- **{_inline(flag['title'])}** (`{_cell(flag['id'])}`) {_inline(flag.get('message') or '')}")
        lines += [f"  - evidence ({_cell(e['source'])} `{_cell(e['id'])}`): {_inline(e['evidence'])}"
                  for e in flag.get("evidence") or []]  # fmt: skip
    return [*lines, ""]


def scorecard(score: dict[str, Any]) -> list[str]:
    """The recommendation with its reasons, the score, each entry's points and what the contract cost."""
    if not score:
        return []
    card = score.get("scorecard") or {}
    lines = []
    if card:
        lines += [f"## Recommendation: {card['band']}", "", f"_{_inline(card['band_note'])}._", ""]
        lines += [f"- {_inline(reason)}" for reason in card["band_reasons"]] + [""]
    partial = " (partial)" if card.get("partial") or score.get("partial") else ""
    lines += [f"## Score: {score['overall']:g} / 100{partial}", ""]
    if left_out := card.get("left_out"):
        lines += ["Left out of the score (neither earned nor lost): "
                  + "; ".join(f"`{_cell(r['id'])}` {_cell(r['state'])} ({_inline(r['reason'])})" for r in left_out)
                  + ".", ""]  # fmt: skip
    if contract := card.get("contract"):
        lines += _contract_cost(score, contract)
    lines += ["| category | weight | score | points earned |", "| --- | ---: | ---: | ---: |"]
    lines += [
        f"| {_cell(name)} | {c.get('weight', '')} | {c['score']:g}{'' if c.get('measured', True) else ' (unverified)'} "
        f"| {c.get('earned', c.get('fixed'))} of {c.get('points', c.get('bugs'))} |"
        for name, c in score["categories"].items()
    ]
    lines.append("")
    if entries := card.get("entries"):
        lines += ["| entry | category | weight | state | points | why this weight |"]
        lines += ["| --- | --- | ---: | --- | ---: | --- |", *map(_entry_row, entries)]
        load = next((row for row in entries if row["id"] == "load"), None)
        lines += ["", *([f"Load: {_inline(load['reason'])}; {_inline(load['curve'])}.", ""] if load else [])]
        lines += [f"Scored with catalogue scoring version {_cell(card['catalogue']['scoring_version'])} "
                  f"(sha256 `{card['catalogue']['sha256'][:12]}`).", ""]  # fmt: skip
    return lines


def _entry_row(row: dict[str, Any]) -> str:
    earned = "—" if row["earned"] is None else f"{row['earned']:g}"
    state = STATE_MARK.get(row["state"], row["state"])
    return (
        f"| `{_cell(row['id'])}` | {_cell(row['category'])} | {row['weight']} | {_cell(state)} "
        f"| {earned} of {row['points']:g} | {_cell(row['weight_reason'])} |"
    )


def _contract_cost(score: dict[str, Any], contract: dict[str, Any]) -> list[str]:
    if not contract.get("ran"):
        return ["The contract did not run: nothing earns credit.", ""]
    if not contract["cases"]:
        return []
    lines = [f"The contract cost {contract['lost']:g} points (probes and load alone: {score['uncapped']:g}):", ""]
    for case in contract["cases"]:
        noted = "" if case["severity_recorded"] else ", severity not recorded: taken as major"
        lines.append(f"- `{_cell(case['name'])}` ({_cell(case['severity'])}{noted}): -{case['cost'] * 100:g} % "
                     f"= -{case['lost']:g} points: {_inline(case['message'])}")  # fmt: skip
    return [*lines, ""]


def _app_log(said: dict[str, Any]) -> list[str]:
    """Lines quoted from the app's own log: its words, set apart as quotations, never the grader's."""
    if not said.get("lines"):
        return []
    note = f"{_inline(said.get('source') or '')}; supporting only: no verdict reads it."
    lines = ["## The app's own log", "", note, ""]
    lines += [f"- the app wrote: {_inline(line)}" for line in said["lines"]]
    if more := said.get("lines_more"):
        lines.append(f"- … {more} more lines")
    return [*lines, ""]


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
    if breaches := scenario.integrity_breaches:  # the books read back after the run
        lines += [f"- ❌ books: {_cell(breach)}" for breach in breaches] + [""]
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
