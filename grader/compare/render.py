"""The comparison page (compare.html, self-contained, with charts) and its Markdown twin (compare.md)."""

from __future__ import annotations

from collections.abc import Sequence

from grader.catalogue import load_catalogue
from grader.compare.model import Candidate, Group, Ranked, by_latency, by_score
from grader.report import figures as fig
from grader.report import page, svg
from grader.report.model import Index, Ratios
from grader.report.page import esc
from grader.report.score import BAND_NOTE

BAND_CLASS = {"strong": "fixed", "mixed": "inconclusive", "no hire signal": "present"}
PALETTE = ("#1f77b4", "#e4572e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
LATENCY_NOTE = (
    "normalised latency is the load index p95: the candidate's p95 over the reference solution's on the same "
    f"machine, geometric mean over the valid scenarios; lower is better, 1{fig.TIMES} matches the reference"
)
MIXED_NOTE = (
    "These reports come from different grader or kit versions (or scenario sets): each group below is "
    "ranked on its own, and figures from different groups are not comparable."
)


def latency_note(candidate: Candidate) -> str:
    """Why a candidate has no load index."""
    load = candidate.load
    if load.status != "ran":
        return f"load skipped: {load.reason or '?'}"
    if load.reference is None or load.reference.source == "none":
        return "no reference run"
    return "no valid scenario"


def _scenario_cell(candidate: Candidate, name: str) -> tuple[str, bool]:
    """(the whole-run p95 and throughput ratios as text, whether the run was valid)."""
    scenario = candidate.scenario(name)
    if scenario is None:
        return "not run", True
    ratios = (scenario.ratios or {}).get(fig.TOTAL) or Ratios()
    text = f"p95 {fig.ratio(ratios.p95)} · throughput {fig.ratio(ratios.throughput)}"
    return text, scenario.valid


def scoring_note() -> str:
    """Which catalogue scored the page: every score, band and red flag is recomputed from report.json."""
    catalogue = load_catalogue()
    return (
        f"scores, bands and red flags recomputed from each report.json with catalogue scoring version "
        f"{catalogue.scoring_version} (sha256 {catalogue.sha256[:12]}); the band is {BAND_NOTE}"
    )


def _categories(group: Group) -> list[str]:
    names: dict[str, None] = {}
    for candidate in group.candidates:
        names |= dict.fromkeys((candidate.score or {}).get("categories") or {})
    return list(names)


def _category_scores(candidate: Candidate, categories: Sequence[str]) -> list[object]:
    return [((candidate.score or {}).get("categories") or {}).get(name, {}).get("score") for name in categories]


def _score_text(candidate: Candidate) -> str:
    if candidate.overall is None:
        return f"no grade: {candidate.report.error or '?'}"
    card = (candidate.score or {}).get("scorecard") or {}
    lost = fig.number((card.get("contract") or {}).get("lost")) or 0
    text = fig.score(candidate.overall) + (f" ({fig.score(lost)} lost to the contract)" if lost else "")
    text += " (partial)" if card.get("partial") else ""
    stored_score = candidate.report.score
    stored = ((stored_score.scorecard if stored_score else None) or {}).get("catalogue") or {}
    if stored.get("sha256") != card.get("catalogue", {}).get("sha256"):
        text += f"; graded with scoring version {stored.get('scoring_version') or 'before weights'}"
    return text


def _contract_text(candidate: Candidate) -> str:
    contract = candidate.report.contract
    return "not run" if not contract else f"{contract.passed} passed, {contract.failed} failed"


def _flag_text(flag: dict[str, object]) -> str:
    """A flag's title, with its evidence when it is the integrity flag (what the service claimed and did not do)."""
    title = str(flag.get("title"))
    return f"{title} ({flag.get('message')})" if flag.get("id") == "integrity" else title


def _rank_text(rank: int | None) -> str:
    return "—" if rank is None else str(rank)


# ---------------------------------------------------------------------------------------------- Markdown


def _cell(text: object) -> str:
    """Text from a report, inert in a Markdown table: no column break, no line break, no HTML tag."""
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def markdown(groups: Sequence[Group], created: str, appendix: str = "") -> str:
    total = sum(len(g.candidates) for g in groups)
    lines = [f"# Comparison of {total} grades", "", f"Made {created}. Ranked by scorecard and by normalised latency;"]
    lines += [f"{LATENCY_NOTE}.", "", f"{_cell(scoring_note())}.", ""]
    if len(groups) > 1:
        lines += [f"**Not comparable across groups.** {MIXED_NOTE}", ""]
    for number, group in enumerate(groups, 1):
        lines += _md_group(number, len(groups), group)
    return "\n".join(lines) + "\n" + (f"\n{appendix}" if appendix else "")


def _md_group(number: int, count: int, group: Group) -> list[str]:
    heading = f"## Group {number} of {count}" if count > 1 else "## Candidates"
    if number > 1:
        heading += ": not comparable with group 1"
    lines = [heading, "", f"{_cell(group.describe())}.", ""]
    categories = _categories(group)
    lines += _md_flags(group)
    lines += ["### Ranked by scorecard", ""]
    lines += [
        "| rank | candidate | recommendation | score | "
        + " | ".join(map(_cell, categories))
        + " | red flags | contract | p95 index |"
    ]
    lines += ["| ---: | --- | --- | ---: | " + " | ".join("---:" for _ in categories) + " | ---: | --- | ---: |"]
    for rank, c in by_score(group.candidates):
        lines.append(
            f"| {_rank_text(rank)} | {_cell(c.label)} | {_cell(c.band or '—')} | {_cell(_score_text(c))} | "
            + " | ".join(fig.score(s) for s in _category_scores(c, categories))
            + f" | {len(c.red_flags)} | {_contract_text(c)} | {fig.ratio(c.index('p95'))} |"
        )
    lines += ["", "### Ranked by normalised latency (lower is better)", "", f"{LATENCY_NOTE}.", ""]
    lines += ["| rank | candidate | p95 index | p50 | p99 | throughput | valid scenarios | score |"]
    lines += ["| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for rank, c in by_latency(group.candidates):
        if rank is None:
            lines.append(f"| — | {_cell(c.label)} | {_cell(latency_note(c))} | | | | | {fig.score(c.overall)} |")
            continue
        index = c.load.index or Index()
        lines.append(
            f"| {rank} | {_cell(c.label)} | {fig.ratio(index.p95)} | {fig.ratio(index.p50)} | "
            f"{fig.ratio(index.p99)} | {fig.ratio(index.throughput)} | "
            f"{index.scenarios} of {len(c.load.scenarios)} | {fig.score(c.overall)} |"
        )
    lines.append("")
    lines += _md_scenarios(group)
    return lines


def _md_scenarios(group: Group) -> list[str]:
    names = group.scenario_names()
    if not names:
        return []
    ordered = [c for _, c in by_latency(group.candidates)]
    lines = ["### Per scenario: candidate ÷ reference, all requests", ""]
    lines += ["| scenario | " + " | ".join(_cell(c.label) for c in ordered) + " |"]
    lines += ["| --- | " + " | ".join("---" for _ in ordered) + " |"]
    for name in names:
        cells = []
        for candidate in ordered:
            text, valid = _scenario_cell(candidate, name)
            cells.append(text if valid else f"⚠️ invalid: {text}")
        lines.append(f"| `{_cell(name)}` | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _md_flags(group: Group) -> list[str]:
    flagged = [c for c in group.candidates if c.red_flags]
    if not flagged:
        return ["No red flags.", ""]
    lines = ["### Red flags", ""]
    for candidate in flagged:
        titles = "; ".join(_cell(_flag_text(flag)) for flag in candidate.red_flags)
        lines.append(f"- **{_cell(candidate.label)}**: {titles}")
    return [*lines, ""]


# ---------------------------------------------------------------------------------------------- HTML


def html(groups: Sequence[Group], created: str, appendix: str = "") -> str:
    """The page; `appendix` (HTML, escaped by its maker) closes it, e.g. the similarity section."""
    total = sum(len(g.candidates) for g in groups)
    body = f'<header><h1>Comparison of {total} grades</h1><p class="meta">made {esc(created)}</p></header>'
    body += f'<p class="note">Ranked by scorecard and by normalised latency; {esc(LATENCY_NOTE)}.</p>'
    body += f'<p class="note" id="scoring">{esc(scoring_note())}.</p>'
    if len(groups) > 1:
        body += (
            f'<div class="banner warn" id="not-comparable"><b>Not comparable across groups.</b> {esc(MIXED_NOTE)}</div>'
        )
    for number, group in enumerate(groups, 1):
        body += _html_group(number, len(groups), group)
    return page.document("Comparison of grades", body + appendix)


def _html_group(number: int, count: int, group: Group) -> str:
    title = f"Group {number} of {count}" if count > 1 else "Candidates"
    mark = page.badge("not comparable with group 1", "not-comparable") if number > 1 else ""
    html = f'<section class="group" id="group-{number}"><h2>{esc(title)} {mark}</h2>'
    html += f'<p class="note">{esc(group.describe())}</p>'
    colours = {c.label: PALETTE[i % len(PALETTE)] for i, c in enumerate(group.candidates)}
    categories = _categories(group)
    html += _html_flags(group)
    rows = []
    for rank, c in by_score(group.candidates):
        flags = "<br>".join(esc(flag.get("title")) for flag in c.red_flags) or '<span class="note">none</span>'
        band = page.badge(c.band, BAND_CLASS.get(c.band, "none")) if c.band else "—"
        rows.append(
            [
                _rank_text(rank),
                f"{page.key('', colours[c.label])}<b>{esc(c.label)}</b>"
                f'<br><span class="note">{esc(c.path.parent)}</span>',
                band,
                f"<b>{esc(_score_text(c))}</b>",
                *(esc(fig.score(s)) for s in _category_scores(c, categories)),
                flags,
                esc(_contract_text(c)),
                esc(fig.ratio(c.index("p95"))),
            ]
        )
    headers = ["rank", "candidate", "recommendation", "score", *categories, "red flags", "contract", "p95 index"]
    numeric = frozenset({0, 3, *range(4, 4 + len(categories)), len(headers) - 1})
    html += "<h3>Ranked by scorecard</h3>" + page.table(headers, rows, numeric, css_class="by-score")
    html += "<h3>Ranked by normalised latency (lower is better)</h3>"
    html += f'<p class="note">{esc(LATENCY_NOTE)}.</p>' + _latency_table(by_latency(group.candidates), colours)
    html += _html_scenarios(number, group, colours)
    return html + "</section>"


def _html_flags(group: Group) -> str:
    """Red flags first: every candidate's, the integrity evidence included."""
    flagged = [c for c in group.candidates if c.red_flags]
    if not flagged:
        return '<p class="red-flags">No red flags.</p>'
    items = "".join(
        f"<li><b>{esc(c.label)}</b>: {'; '.join(esc(_flag_text(flag)) for flag in c.red_flags)}</li>" for c in flagged
    )
    return f'<div class="banner red-flags"><b>Red flags</b><ul>{items}</ul></div>'


def _latency_table(ranked: Ranked, colours: dict[str, str]) -> str:
    rows = []
    for rank, c in ranked:
        index = c.load.index or Index()
        figures = (
            [esc(latency_note(c)), "", "", "", ""]
            if rank is None
            else [
                *(esc(fig.ratio(getattr(index, key))) for key in ("p95", "p50", "p99", "throughput")),
                esc(f"{index.scenarios} of {len(c.load.scenarios)}"),
            ]
        )
        label = f"{page.key('', colours[c.label])}<b>{esc(c.label)}</b>"
        rows.append([_rank_text(rank), label, *figures, esc(fig.score(c.overall))])
    headers = ["rank", "candidate", "p95 index", "p50", "p99", "throughput", "valid scenarios", "score"]
    return page.table(headers, rows, frozenset({0, 2, 3, 4, 5, 6, 7}), css_class="by-latency")


def _html_scenarios(number: int, group: Group, colours: dict[str, str]) -> str:
    names = group.scenario_names()
    if not names:
        return ""
    ordered = [c for _, c in by_latency(group.candidates)]
    rows = []
    for name in names:
        cells = []
        for candidate in ordered:
            text, valid = _scenario_cell(candidate, name)
            cells.append(esc(text) if valid else f"{page.badge('invalid', 'invalid')} {esc(text)}")
        rows.append([f"<code>{esc(name)}</code>", *cells])
    html = "<h3>Per scenario: candidate ÷ reference, all requests</h3>"
    html += page.table(["scenario", *(c.label for c in ordered)], rows, css_class="by-scenario")
    legend = "".join(page.key(c.label, colours[c.label]) for c in ordered)
    html += '<div class="charts">'
    for kind, key, title in (
        ("p95", "p95", "p95 ratio per scenario"),
        ("throughput", "throughput", "Throughput ratio per scenario"),
    ):
        bars = [_ratio_bars(candidate, names, key, colours[candidate.label]) for candidate in ordered]
        chart = svg.bar_chart(
            f"compare-{number}-{kind}",
            title,
            names,
            bars,
            y_label=f"candidate ÷ reference ({'lower' if key == 'p95' else 'higher'} is better)",
            y_log=True,
            y_format=lambda v: f"{v:g}{fig.TIMES}",
            baseline=1.0,
            empty="no valid scenario with a reference",
        )
        html += f'<figure><figcaption>{esc(title)} <span class="note">{legend}</span></figcaption>{chart}</figure>'
    note = f"Invalid runs have no bar; the dashed line is the reference (1{fig.TIMES})."
    return html + f'</div><p class="note">{note}</p>'


def _ratio_bars(candidate: Candidate, names: Sequence[str], key: str, colour: str) -> svg.Bars:
    values: list[float | None] = []
    for name in names:
        scenario = candidate.scenario(name)
        ratios = ((scenario.ratios or {}) if scenario else {}).get(fig.TOTAL) or Ratios()
        values.append(getattr(ratios, key) if scenario and scenario.valid else None)
    return svg.Bars(candidate.label, colour, values, [fig.ratio(v) if v is not None else "" for v in values])
