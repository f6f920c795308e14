"""report.html: the grade as one self-contained page, scorecard first, then each bug's evidence, the contract,
and the load scenarios with their charts (inline SVG). Opens offline: no script, no font, no URL fetched.

Everything a report holds may come from the submission (its name, its error messages): all of it is escaped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from grader.report import _charts, _page
from grader.report import figures as fig
from grader.report._page import esc

VERDICT_TEXT = {"fixed": "fixed", "present": "present", "inconclusive": "inconclusive"}
EVIDENCE_ITEMS = 24  # per bug: the rest is in report.json
EVIDENCE_TEXT = 160  # characters per value
LIST_ITEMS = 6


def render(report: dict[str, Any]) -> str:
    submission = report.get("submission") or {}
    name = str(submission.get("name") or "?")
    parts = [
        _header(report, name),
        _scorecard(report),
        _bugs(report.get("bugs") or []),
        _contract(report.get("contract")),
        _load(report.get("load") or {}),
        _phases(report.get("phases") or []),
        _environment(report.get("environment") or {}),
    ]
    return _page.document(f"Grade: {name}", "\n".join(parts))


def _header(report: Mapping[str, Any], name: str) -> str:
    submission, environment = report.get("submission") or {}, report.get("environment") or {}
    status = str(report.get("status") or "?")
    meta = [
        f"source <code>{esc(submission.get('source'))}</code> ({esc(submission.get('kind') or '?')})",
        f"content sha256 <code>{esc(str(submission.get('content_hash') or '')[:16] or '?')}</code>",
        f"grader {esc(environment.get('grader_version') or '?')}",
        f"kit commit <code>{esc(str(environment.get('kit_commit') or 'unknown')[:12])}</code>",
        f"seed {esc(environment.get('seed'))}",
        f"started {esc(report.get('started_at') or '?')}, took {fig.score(report.get('seconds'))} s",
    ]
    html = f"<header><h1>Grade: {esc(name)} {_page.badge(status, status)}</h1>"
    html += f'<p class="meta">{" · ".join(meta)}</p>'
    if sandbox := environment.get("sandbox"):  # how far the app was confined on the grading machine
        html += f'<p class="meta" id="sandbox">sandbox: {esc(sandbox)}</p>'
    html += "</header>"
    if status == "error":
        html += f'<div class="banner"><b>No grade could be produced:</b> {esc(report.get("error"))}</div>'
    return html


def _scorecard(report: Mapping[str, Any]) -> str:
    score = report.get("score")
    html = '<section id="scorecard"><h2>Scorecard</h2><div class="cards">'
    if not score:
        html += '<div><div class="score">—</div><p class="note">no score: the grade did not complete</p></div>'
    else:
        html += f'<div><div class="score">{fig.score(score.get("overall"))}<small> / 100</small></div>'
        if partial := score.get("partial"):
            html += (
                f'<p class="note">partial: {len(partial.get("not_probed", []))} bugs not probed '
                f'({esc(str(partial.get("because", "")))}), no credit for them</p>'
            )
        cap = fig.number(score.get("contract_cap"))
        if cap is not None and cap < 100:
            html += (
                f'<p class="note">capped at {fig.score(cap)} by contract failures '
                f"(probes alone: {fig.score(score.get('uncapped'))})</p>"
            )
        html += "</div>"
        rows = []
        for category, figures in (score.get("categories") or {}).items():
            value = fig.number(figures.get("score")) or 0.0
            meter = f'<span class="meter"><span style="width:{min(max(value, 0), 100):.0f}%"></span></span>'
            rows.append(
                [esc(category), meter, fig.score(value), f"{esc(figures.get('fixed'))}/{esc(figures.get('bugs'))}"]
            )
        html += "<div>" + _page.table(["category", "", "score", "fixed"], rows, frozenset({2, 3})) + "</div>"
    html += "</div>"
    flags = report.get("red_flags") or []
    if flags:
        items = "".join(
            f"<li><b>{esc(f.get('title'))}</b> <code>{esc(f.get('id'))}</code> {esc(f.get('message') or '')}</li>"
            for f in flags
        )
        html += f'<div class="banner" id="red-flags"><b>Red flags</b><ul>{items}</ul></div>'
    else:
        html += '<p id="red-flags">No red flags.</p>'
    return html + "</section>"


def _bugs(bugs: list[dict[str, Any]]) -> str:
    rows = []
    for bug in bugs:
        verdict = str(bug.get("verdict") or "?")
        flag = ' <span class="badge present">red flag</span>' if bug.get("red_flag") else ""
        rows.append(
            [
                _page.badge(VERDICT_TEXT.get(verdict, verdict), verdict),
                f'<span class="title">{esc(bug.get("title") or "")}</span>{flag}<br><code>{esc(bug.get("id"))}</code>'
                f' <span class="note">{esc(bug.get("category") or "")}</span>',
                f"<code>{esc(bug.get('metric'))}</code> = <b>{_value(bug.get('value'))}</b>"
                f'<br><span class="note">{esc(bug.get("threshold") or "")}</span>',
                esc(bug.get("message") or ""),
                _evidence(bug.get("evidence") or {}),
            ]
        )
    table = _page.table(["verdict", "bug", "measured", "message", "evidence"], rows, css_class="bugs")
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
    items = "".join(f'<li><span class="k">{esc(k)}</span> {esc(v)}</li>' for k, v in pairs[:EVIDENCE_ITEMS])
    if extra > 0:
        items += f'<li class="note">… {extra} more in report.json</li>'
    return f'<ul class="kv">{items}</ul>'


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


def _contract(contract: Mapping[str, Any] | None) -> str:
    if not contract:
        return '<section id="contract"><h2>Contract</h2><p>Not run.</p></section>'
    failed = [case for case in contract.get("cases") or [] if case.get("outcome") != "passed"]
    kind = "failed" if failed or contract.get("failed") else "fixed"
    counts = f"{contract.get('passed')} passed, {contract.get('failed')} failed"
    html = f'<section id="contract"><h2>Contract {_page.badge(counts, kind)}</h2>'
    if failed:
        rows = [
            [f"<code>{esc(c.get('name'))}</code>", esc(c.get("outcome")), esc(c.get("message") or "")] for c in failed
        ]
        html += _page.table(["case", "outcome", "message"], rows)
    else:
        html += "<p>Every case passed.</p>"
    return html + "</section>"


def _load(load: Mapping[str, Any]) -> str:
    html = '<section id="load"><h2>Load</h2>'
    if load.get("status") != "ran":
        reason = load.get("reason") or "the load phase did not run"
        return html + f"<p>{_page.badge('skipped', 'skipped')} {esc(reason)}</p></section>"
    reference = load.get("reference") or {}
    source = str(reference.get("source") or "none")
    html += f"<p><b>Reference</b> {_page.badge(source, source)} {esc(fig.provenance_text(reference))}"
    if reference.get("kit_version") or reference.get("fingerprint"):
        details = _flatten(
            {"kit": reference.get("kit_version") or {}, "machine": reference.get("fingerprint") or {}}, ""
        )
        items = "".join(f'<li><span class="k">{esc(k)}</span> {esc(v)}</li>' for k, v in details)
        html += f'<details><summary>kit version and machine</summary><ul class="kv">{items}</ul></details>'
    html += "</p>"
    html += f'<p id="load-index"><b>Index</b> {esc(fig.index_text(load.get("index")))}<br>'
    html += f'<span class="note">Ratios are {esc(fig.RATIO_NOTE)}.</span></p>'
    pinning = load.get("pinning")
    if isinstance(pinning, Mapping):
        pinning = f"app on CPUs {pinning.get('app')}, load generator on CPUs {pinning.get('generator')}"
    html += f'<p class="note">{esc(load.get("workers"))} generator process(es); {esc(pinning)}</p>'
    for number, scenario in enumerate(load.get("scenarios") or []):
        html += _scenario(number, scenario)
    return html + "</section>"


def _scenario(number: int, scenario: Mapping[str, Any]) -> str:
    valid = bool(scenario.get("valid"))
    title = scenario.get("title") or scenario.get("name")
    html = f'<section class="scenario{"" if valid else " invalid"}" id="scenario-{number}">'
    html += f"<h3>{esc(title)} <code>{esc(scenario.get('name'))}</code> "
    html += _page.badge("valid" if valid else "INVALID", "valid" if valid else "invalid") + "</h3>"
    html += f'<p class="note">{esc(" ".join(str(scenario.get("description") or "").split()))}</p>'
    html += f"<p>{esc(fig.setup_text(scenario))}</p>"
    if not valid:
        reasons = "".join(f"<li>{esc(r)}</li>" for r in scenario.get("invalid_reasons") or []) or "<li>?</li>"
        html += f'<div class="banner"><b>Invalid run: not to be trusted.</b><ul>{reasons}</ul></div>'
    if breaches := scenario.get("integrity_breaches"):  # the books read back after the run
        items = "".join(f"<li>{esc(b)}</li>" for b in breaches)
        html += f'<div class="banner integrity"><b>The books did not add up after this run.</b><ul>{items}</ul></div>'
    html += _endpoints(scenario)
    html += _reference_line(scenario)
    legend = _page.key("candidate", _charts.CANDIDATE)
    if scenario.get("reference"):
        legend += _page.key("reference", _charts.REFERENCE)
    html += '<div class="charts">'
    for kind, title, draw in _charts.CHARTS:
        svg = draw(f"chart-{number}-{kind}", title, scenario)
        html += f'<figure><figcaption>{esc(title)} <span class="note">{legend}</span></figcaption>{svg}</figure>'
    html += "</div>" + _generator(scenario) + "</section>"
    return html


def _endpoints(scenario: Mapping[str, Any]) -> str:
    ratios = scenario.get("ratios") or {}
    headers = ["endpoint", "requests", "errors", "not 2xx, by status", "req/s"]
    headers += [f"{label} ms" for label, _ in fig.PERCENTILES] + ["max ms", "samples"]
    rows = []
    for name, figures in ((scenario.get("candidate") or {}).get("endpoints") or {}).items():
        mine = ratios.get(name) or {}

        def cell(text: str, key: str, mine: Mapping[str, Any] = mine) -> str:
            if mine.get(key) is None:
                return esc(text)
            return f'{esc(text)}<br><span class="ratio">{esc(fig.ratio(mine[key]))}</span>'

        label = f"<b>{esc(name)}</b>" if name == fig.TOTAL else f"<code>{esc(name)}</code>"
        rows.append(
            [
                label,
                esc(figures.get("requests", "—")),
                esc(figures.get("errors", "—")),
                esc(fig.statuses_text(figures.get("statuses") or {})),
                cell(fig.rate(figures.get("throughput_rps")), "throughput"),
                *(cell(fig.ms(figures.get(key)), label) for label, key in fig.PERCENTILES),
                esc(fig.ms(figures.get("max_ms"))),
                esc(figures.get("samples", "—")),
            ]
        )
    return _page.table(headers, rows, frozenset(range(1, len(headers))) - {3}, css_class="endpoints")


def _reference_line(scenario: Mapping[str, Any]) -> str:
    reference = scenario.get("reference")
    if not reference:
        return '<p class="note">No reference run for this scenario: no ratios.</p>'
    total = (reference.get("endpoints") or {}).get(fig.TOTAL) or {}
    figures = ", ".join(f"{label} {fig.ms(total.get(key))} ms" for label, key in fig.PERCENTILES)
    text = (
        f"Reference, all requests: {fig.rate(total.get('throughput_rps'))} req/s, {figures}, "
        f"errors {total.get('errors', 0)} of {total.get('requests', 0)}. Under each figure: candidate ÷ reference."
    )
    return f'<p class="note">{esc(text)}</p>'


def _generator(scenario: Mapping[str, Any]) -> str:
    generator = (scenario.get("candidate") or {}).get("generator") or {}
    if not generator:
        return ""
    text = (
        f"candidate run: {generator.get('processes')} generator process(es) on CPUs {generator.get('cpus')}, "
        f"CPU {generator.get('cpu_percent')} %, max dispatch lag {generator.get('max_dispatch_lag_ms')} ms, "
        f"wall {generator.get('wall_s')} s; app on CPUs {generator.get('app_cpus')}"
    )
    return f'<p class="note">{esc(text)}</p>'


def _phases(phases: list[dict[str, Any]]) -> str:
    rows = [
        [esc(p.get("name")), _page.badge(str(p.get("status")), str(p.get("status"))), fig.score(p.get("seconds")),
         esc(p.get("error") or "")]
        for p in phases
    ]  # fmt: skip
    table = _page.table(["phase", "status", "seconds", "error"], rows, frozenset({2}))
    return f'<section id="phases"><h2>Phases</h2>{table}</section>'


def _environment(environment: Mapping[str, Any]) -> str:
    shown = {k: v for k, v in environment.items() if k != "packages"}
    items = "".join(f'<li><span class="k">{esc(k)}</span> {esc(v)}</li>' for k, v in _flatten(shown, ""))
    packages = ", ".join(f"{k} {v}" for k, v in (environment.get("packages") or {}).items())
    return (
        f'<footer><h2>Environment</h2><ul class="kv">{items}</ul><p class="note">packages: {esc(packages)}</p></footer>'
    )
