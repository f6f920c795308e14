"""report.html: the grade as one self-contained page, scorecard first, then each bug's evidence, the contract,
and the load scenarios with their charts (inline SVG). Opens offline: no script, no font, no URL fetched.

Everything a report holds may come from the submission (its name, its error messages): all of it is escaped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from grader.guide import html_section as guide_html
from grader.report import _charts, page
from grader.report import figures as fig
from grader.report.model import (
    Bug,
    Contract,
    Endpoint,
    Environment,
    Load,
    LoadScenario,
    Phase,
    Pinning,
    Ratios,
    Report,
)
from grader.report.page import esc

VERDICT_TEXT = {"fixed": "fixed", "present": "present", "inconclusive": "unverified"}
EVIDENCE_ITEMS = 24  # per bug: the rest is in report.json
EVIDENCE_TEXT = 160  # characters per value
LIST_ITEMS = 6
APP_LOG = "app_log"  # evidence under this key is the app's own output (grader.evidence.runtime)


def render(report: Report) -> str:
    name = report.submission.name
    parts = [
        _header(report, name),
        # the scorecard reads its sections as plain data (compare recomputes them the same way)
        _scorecard(report.model_dump(mode="json", include={"score", "red_flags"})),
        _bugs(report.bugs),
        _contract(report.contract),
        _app_log(report.asyncio_debug),
        _load(report.load),
        guide_html(report.guide.model_dump()) if report.guide else "",
        _phases(report.phases),
        _environment(report.environment),
    ]
    return page.document(f"Grade: {name}", "\n".join(parts))


def _header(report: Report, name: str) -> str:
    submission, environment = report.submission, report.environment
    status = report.status
    meta = [
        f"source <code>{esc(submission.source)}</code> ({esc(submission.kind or '?')})",
        f"content sha256 <code>{esc((submission.content_hash or '')[:16] or '?')}</code>",
        f"grader {esc(environment.grader_version or '?')}",
        f"kit commit <code>{esc((environment.kit_commit or 'unknown')[:12])}</code>",
        f"seed {esc(environment.seed)}",
        f"started {esc(report.started_at or '?')}, took {fig.score(report.seconds)} s",
    ]
    html = f"<header><h1>Grade: {esc(name)} {page.badge(status, status)}</h1>"
    html += f'<p class="meta">{" · ".join(meta)}</p>'
    if sandbox := environment.sandbox:  # how far the app was confined on the grading machine
        html += f'<p class="meta" id="sandbox">sandbox: {esc(sandbox)}</p>'
    html += "</header>"
    if status == "error":
        html += f'<div class="banner"><b>No grade could be produced:</b> {esc(report.error)}</div>'
    return html


BAND_CLASS = {"strong": "fixed", "mixed": "inconclusive", "no hire signal": "present"}
STATE_CLASS = {"fixed": "fixed", "present": "present", "measured": "fixed", "invalid": "present"}


def red_flags_html(flags: list[Mapping[str, Any]]) -> str:
    """First on the page: the integrity flag with its evidence, then the others with their state."""
    if not flags:
        return '<p id="red-flags">No red flags.</p>'
    items = ""
    for flag in flags:
        evidence = "".join(
            f"<li>{esc(e.get('source'))} <code>{esc(e.get('id'))}</code>: {esc(e.get('evidence'))}</li>"
            for e in flag.get("evidence") or []
        )
        items += (
            f"<li><b>{esc(flag.get('title'))}</b> <code>{esc(flag.get('id'))}</code> {esc(flag.get('message') or '')}"
            + (f"<ul>{evidence}</ul>" if evidence else "")
            + "</li>"
        )
    return f'<div class="banner" id="red-flags"><b>Red flags</b><ul>{items}</ul></div>'


def _scorecard(report: Mapping[str, Any]) -> str:
    score = report.get("score")
    html = '<section id="scorecard"><h2>Scorecard</h2>' + red_flags_html(report.get("red_flags") or [])
    html += '<div class="cards">'
    if not score:
        html += '<div><div class="score">—</div><p class="note">no score: the grade did not complete</p></div>'
        return html + "</div></section>"
    card = score.get("scorecard") or {}
    html += f'<div><div class="score">{fig.score(score.get("overall"))}<small> / 100</small></div>'
    if band := card.get("band"):
        html += f'<p id="band">{page.badge(str(band), BAND_CLASS.get(str(band), "none"))}'
        html += f' <span class="note">{esc(card.get("band_note"))}</span></p>'
        html += "<ul>" + "".join(f"<li>{esc(reason)}</li>" for reason in card.get("band_reasons") or []) + "</ul>"
    if left_out := card.get("left_out"):
        shown = "; ".join(f"{r.get('id')} {r.get('state')} ({r.get('reason')})" for r in left_out)
        html += f'<p class="note" id="partial">partial: left out of the score: {esc(shown)}</p>'
    elif partial := score.get("partial"):
        html += (
            f'<p class="note">partial: {len(partial.get("not_probed", []))} bugs not probed '
            f"({esc(str(partial.get('because', '')))})</p>"
        )
    html += _contract_cost(score, card.get("contract") or {}) + "</div>"
    rows = []
    for category, figures in (score.get("categories") or {}).items():
        value = fig.number(figures.get("score")) or 0.0
        meter = f'<span class="meter"><span style="width:{min(max(value, 0), 100):.0f}%"></span></span>'
        shown = fig.score(value) if figures.get("measured", True) else "unverified"
        earned = (
            f"{fig.score(figures.get('earned'))} of {fig.score(figures.get('points'))}"
            if "points" in figures
            else f"{figures.get('fixed')}/{figures.get('bugs')}"
        )
        rows.append([esc(category), esc(figures.get("weight", "")), meter, esc(shown), esc(earned)])
    html += "<div>" + page.table(["category", "weight", "", "score", "points"], rows, frozenset({1, 3, 4})) + "</div>"
    html += "</div>" + _entries(card)
    return html + "</section>"


def _contract_cost(score: Mapping[str, Any], contract: Mapping[str, Any]) -> str:
    if not contract:
        return ""
    if not contract.get("ran"):
        return '<p class="note">the contract did not run: nothing earns credit</p>'
    if not contract.get("cases"):
        return ""
    items = "".join(
        f"<li><code>{esc(c.get('name'))}</code> {esc(c.get('severity'))}"
        + ("" if c.get("severity_recorded") else " (not recorded: taken as major)")
        + f": {fig.score(100 * float(c.get('cost') or 0))} % of the score, {fig.score(c.get('lost'))} points. "
        + f"{esc(c.get('message'))}</li>"
        for c in contract["cases"]
    )
    lost = (
        f"the contract cost {fig.score(contract.get('lost'))} points "
        f"(probes and load alone: {fig.score(score.get('uncapped'))})"
    )
    return f'<div id="contract-cost"><p class="note">{esc(lost)}</p><ul>{items}</ul></div>'


def _entries(card: Mapping[str, Any]) -> str:
    """Each entry's weight, reason, state and points (load included)."""
    entries = card.get("entries") or []
    if not entries:
        return ""
    rows = []
    for row in entries:
        state = str(row.get("state"))
        earned = "—" if row.get("earned") is None else fig.score(row.get("earned"))
        reason = str(row.get("reason") or "")
        rows.append(
            [
                f"<code>{esc(row.get('id'))}</code>",
                esc(row.get("category")),
                esc(row.get("weight")),
                page.badge(state, STATE_CLASS.get(state, "inconclusive")),
                f"{esc(earned)} of {esc(fig.score(row.get('points')))}",
                esc(row.get("weight_reason")) + (reason and f'<br><span class="note">{esc(reason)}</span>'),
            ]
        )
    catalogue = card.get("catalogue") or {}
    note = (
        f"scored with catalogue scoring version {catalogue.get('scoring_version')} "
        f"(sha256 {str(catalogue.get('sha256') or '')[:12]})"
    )
    table = page.table(["entry", "category", "weight", "state", "points", "why this weight"], rows, frozenset({2, 4}))
    return f'<h3>Points per entry</h3>{table}<p class="note">{esc(note)}</p>'


def _bugs(bugs: list[Bug]) -> str:
    rows = []
    for bug in bugs:
        flag = ' <span class="badge present">red flag</span>' if bug.red_flag else ""
        rows.append(
            [
                page.badge(VERDICT_TEXT[bug.verdict], bug.verdict),
                f'<span class="title">{esc(bug.title)}</span>{flag}<br><code>{esc(bug.id)}</code>'
                f' <span class="note">{esc(bug.category)}</span>',
                f"<code>{esc(bug.metric)}</code> = <b>{_value(bug.value)}</b>"
                f'<br><span class="note">{esc(bug.threshold)}</span>',
                esc(bug.message),
                _evidence(bug.evidence),
            ]
        )
    table = page.table(["verdict", "bug", "measured", "message", "evidence"], rows, css_class="bugs")
    return f'<section id="bugs"><h2>Bugs</h2>{table}</section>'


def _value(value: object) -> str:
    if value is None:
        return '— <span class="note">(not measured)</span>'
    shown = fig.number(value)
    return esc(f"{shown:g}" if shown is not None else value)


def _evidence(evidence: Mapping[str, Any]) -> str:
    pairs = _flatten(evidence, "") if evidence else []
    if not pairs:
        return '<span class="note">none</span>'
    extra = len(pairs) - EVIDENCE_ITEMS
    items = "".join(
        f'<li><span class="k">{esc(k)}</span> {_said(v) if APP_LOG in k.split(".") else esc(v)}</li>'
        for k, v in pairs[:EVIDENCE_ITEMS]
    )
    if extra > 0:
        items += f'<li class="note">… {extra} more in report.json</li>'
    return f'<ul class="kv">{items}</ul>'


def _said(value: str) -> str:
    """A value taken from the app's own log: its words, shown as a quotation, never as the grader's."""
    return f'<span class="note">the app\'s own log:</span> <q>{esc(value)}</q>'


def _app_log(debug: Mapping[str, Any]) -> str:
    said = debug.get(APP_LOG) or {}
    lines = said.get("lines") or []
    if not lines:
        return ""
    more = said.get("lines_more") or 0
    items = "".join(f"<li><q>{esc(line)}</q></li>" for line in lines)
    items += f'<li class="note">… {esc(more)} more lines</li>' if more else ""
    return (
        f'<section id="app-log"><h2>The app\'s own log</h2><p class="note">{esc(said.get("source") or "")}; '
        f"supporting only: no verdict reads it.</p><ul>{items}</ul></section>"
    )


def _flatten(value: object, prefix: str) -> list[tuple[str, str]]:
    """Nested evidence as dotted keys, so a probe's dict reads as one compact list."""
    if isinstance(value, Mapping) and value:
        return [pair for k, v in value.items() for pair in _flatten(v, f"{prefix}.{k}" if prefix else str(k))]
    return [(prefix or "value", _compact(value))]


def _compact(value: object) -> str:
    if isinstance(value, list | tuple):
        shown = ", ".join(_compact(item) for item in value[:LIST_ITEMS]) or "none"
        text = shown + (f" … +{len(value) - LIST_ITEMS} more" if len(value) > LIST_ITEMS else "")
    elif isinstance(value, Mapping):
        text = json.dumps(value, separators=(",", ":"), default=str)
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    return text if len(text) <= EVIDENCE_TEXT else text[: EVIDENCE_TEXT - 1] + "…"


def _contract(contract: Contract | None) -> str:
    if not contract:
        return '<section id="contract"><h2>Contract</h2><p>Not run.</p></section>'
    failed = [case for case in contract.cases if case.outcome != "passed"]
    kind = "failed" if failed or contract.failed else "fixed"
    counts = f"{contract.passed} passed, {contract.failed} failed"
    html = f'<section id="contract"><h2>Contract {page.badge(counts, kind)}</h2>'
    if failed:
        rows = [[f"<code>{esc(c.name)}</code>", esc(c.outcome), esc(c.message)] for c in failed]
        html += page.table(["case", "outcome", "message"], rows)
    else:
        html += "<p>Every case passed.</p>"
    return html + "</section>"


def _load(load: Load) -> str:
    html = '<section id="load"><h2>Load</h2>'
    if load.status != "ran":
        reason = load.reason or "the load phase did not run"
        return html + f"<p>{page.badge('skipped', 'skipped')} {esc(reason)}</p></section>"
    reference = load.reference
    source = reference.source if reference else "none"
    html += f"<p><b>Reference</b> {page.badge(source, source)} {esc(fig.provenance_text(reference))}"
    if reference and (reference.kit_version or reference.fingerprint):
        details = _flatten({"kit": reference.kit_version or {}, "machine": reference.fingerprint or {}}, "")
        items = "".join(f'<li><span class="k">{esc(k)}</span> {esc(v)}</li>' for k, v in details)
        html += f'<details><summary>kit version and machine</summary><ul class="kv">{items}</ul></details>'
    html += "</p>"
    html += f'<p id="load-index"><b>Index</b> {esc(fig.index_text(load.index))}<br>'
    html += f'<span class="note">Ratios are {esc(fig.RATIO_NOTE)}.</span></p>'
    pinning = load.pinning
    if isinstance(pinning, Pinning):
        pinning = f"app on CPUs {pinning.app}, load generator on CPUs {pinning.generator}"
    html += f'<p class="note">{esc(load.workers)} generator process(es); {esc(pinning)}</p>'
    for number, scenario in enumerate(load.scenarios):
        html += _scenario(number, scenario)
    return html + "</section>"


def _scenario(number: int, scenario: LoadScenario) -> str:
    valid = scenario.valid
    html = f'<section class="scenario{"" if valid else " invalid"}" id="scenario-{number}">'
    html += f"<h3>{esc(scenario.title or scenario.name)} <code>{esc(scenario.name)}</code> "
    html += page.badge("valid" if valid else "INVALID", "valid" if valid else "invalid") + "</h3>"
    html += f'<p class="note">{esc(" ".join(scenario.description.split()))}</p>'
    html += f"<p>{esc(fig.setup_text(scenario))}</p>"
    if not valid:
        reasons = "".join(f"<li>{esc(r)}</li>" for r in scenario.invalid_reasons) or "<li>?</li>"
        html += f'<div class="banner"><b>Invalid run: not to be trusted.</b><ul>{reasons}</ul></div>'
    if breaches := scenario.integrity_breaches:  # the books read back after the run
        items = "".join(f"<li>{esc(b)}</li>" for b in breaches)
        html += f'<div class="banner integrity"><b>The books did not add up after this run.</b><ul>{items}</ul></div>'
    html += _endpoints(scenario)
    html += _reference_line(scenario)
    legend = page.key("candidate", _charts.CANDIDATE)
    if scenario.reference:
        legend += page.key("reference", _charts.REFERENCE)
    html += '<div class="charts">'
    for kind, title, draw in _charts.CHARTS:
        chart = draw(f"chart-{number}-{kind}", title, scenario)
        html += f'<figure><figcaption>{esc(title)} <span class="note">{legend}</span></figcaption>{chart}</figure>'
    html += "</div>" + _generator(scenario) + "</section>"
    return html


def _endpoints(scenario: LoadScenario) -> str:
    ratios = scenario.ratios or {}
    headers = ["endpoint", "requests", "errors", "not 2xx, by status", "req/s"]
    headers += [f"{label} ms" for label, _ in fig.PERCENTILES] + ["max ms", "samples"]
    rows = []
    for name, figures in scenario.candidate.endpoints.items():
        mine = ratios.get(name) or Ratios()

        def cell(text: str, key: str, mine: Ratios = mine) -> str:
            value = getattr(mine, key, None)
            if value is None:
                return esc(text)
            return f'{esc(text)}<br><span class="ratio">{esc(fig.ratio(value))}</span>'

        label = f"<b>{esc(name)}</b>" if name == fig.TOTAL else f"<code>{esc(name)}</code>"
        rows.append(
            [
                label,
                esc(figures.requests),
                esc(figures.errors),
                esc(fig.statuses_text(figures.statuses)),
                cell(fig.rate(figures.throughput_rps), "throughput"),
                *(cell(fig.ms(getattr(figures, key)), label) for label, key in fig.PERCENTILES),
                esc(fig.ms(figures.max_ms)),
                esc(figures.samples),
            ]
        )
    return page.table(headers, rows, frozenset(range(1, len(headers))) - {3}, css_class="endpoints")


def _reference_line(scenario: LoadScenario) -> str:
    reference = scenario.reference
    if not reference:
        return '<p class="note">No reference run for this scenario: no ratios.</p>'
    total = reference.endpoints.get(fig.TOTAL) or Endpoint(requests=0, errors=0)
    figures = ", ".join(f"{label} {fig.ms(getattr(total, key))} ms" for label, key in fig.PERCENTILES)
    text = (
        f"Reference, all requests: {fig.rate(total.throughput_rps)} req/s, {figures}, "
        f"errors {total.errors} of {total.requests}. Under each figure: candidate ÷ reference."
    )
    return f'<p class="note">{esc(text)}</p>'


def _generator(scenario: LoadScenario) -> str:
    generator = scenario.candidate.generator
    if not generator:
        return ""
    text = (
        f"candidate run: {generator.processes} generator process(es) on CPUs {generator.cpus}, "
        f"CPU {generator.cpu_percent} %, max dispatch lag {generator.max_dispatch_lag_ms} ms, "
        f"wall {generator.wall_s} s; app on CPUs {generator.app_cpus}"
    )
    return f'<p class="note">{esc(text)}</p>'


def _phases(phases: list[Phase]) -> str:
    rows = [[esc(p.name), page.badge(p.status, p.status), fig.score(p.seconds), esc(p.error or "")] for p in phases]
    table = page.table(["phase", "status", "seconds", "error"], rows, frozenset({2}))
    return f'<section id="phases"><h2>Phases</h2>{table}</section>'


def _environment(environment: Environment) -> str:
    shown = environment.model_dump(exclude={"packages"})
    items = "".join(f'<li><span class="k">{esc(k)}</span> {esc(v)}</li>' for k, v in _flatten(shown, ""))
    packages = ", ".join(f"{k} {v}" for k, v in environment.packages.items())
    return (
        f'<footer><h2>Environment</h2><ul class="kv">{items}</ul><p class="note">packages: {esc(packages)}</p></footer>'
    )
