"""The HTML pages' frame: one self-contained document, inline CSS, every text escaped on its way in."""

from __future__ import annotations

from html import escape

import jinja2

CSS = """
:root { --ink: #222; --muted: #666; --line: #ddd; --good: #1a7f37; --bad: #c62828; --warn: #b26a00; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fff;
       margin: 0 auto; padding: 24px; max-width: 1160px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 0 0 4px; }
table.endpoints td code { white-space: nowrap; }
code { font: 12px ui-monospace, "SFMono-Regular", Menlo, monospace; background: #f4f4f4; padding: 1px 4px; }
.meta, .note { color: var(--muted); }
table { border-collapse: collapse; margin: 8px 0 12px; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f7f7f7; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
.ratio { color: var(--muted); font-size: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
         color: #fff; white-space: nowrap; }
.fixed, .valid, .ran, .fresh, .cached, .graded, .ok, .comparable { background: var(--good); }
.present, .invalid, .error, .failed { background: var(--bad); }
.inconclusive, .skipped, .none, .not-comparable { background: var(--warn); }
.banner { border-left: 6px solid var(--bad); background: #fdecea; padding: 10px 14px; margin: 12px 0; }
.banner.warn { border-color: var(--warn); background: #fff4e0; }
.score { font-size: 44px; font-weight: 700; line-height: 1; }
.cards { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
.meter { background: #eee; height: 10px; width: 180px; display: inline-block; vertical-align: middle; }
.meter > span { background: var(--good); height: 10px; display: block; }
ul.kv { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 2px 12px; }
ul.kv li { font-size: 12px; } ul.kv .k { color: var(--muted); }
section.scenario { border: 1px solid var(--line); border-radius: 6px; padding: 14px 16px; margin: 16px 0; }
section.scenario.invalid { border: 3px dashed var(--bad); background: #fffafa; }
.charts { display: grid; grid-template-columns: repeat(2, 520px); gap: 12px 24px; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: 2px; }
table.bugs td:nth-child(2) { width: 24%; } table.bugs td:nth-child(3) { width: 26%; }
table.bugs td:nth-child(4) { width: 22%; } table.bugs .title { font-weight: 600; }
.key { display: inline-block; width: 14px; height: 4px; vertical-align: middle; margin: 0 4px 0 10px; }
"""


def esc(text: object) -> str:
    """Any value from a report, safe between tags and inside quoted attributes."""
    return escape(str(text), quote=True)


def document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def badge(text: str, kind: str) -> str:
    return f'<span class="badge {esc(kind)}">{esc(text)}</span>'


def key(label: str, colour: str) -> str:
    """A legend entry: the series' colour beside its name."""
    return f'<span class="key" style="background:{esc(colour)}"></span>{esc(label)}'


def table(headers: list[str], rows: list[list[str]], numeric: frozenset[int] = frozenset(), css_class: str = "") -> str:
    """Headers are escaped here; cells are HTML already (callers escape what they put in)."""
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if i in numeric else f"<th>{esc(h)}</th>" for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f'<table class="{esc(css_class)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def templates(package: str) -> jinja2.Environment:
    """The autoescaped, strict jinja2 templates under `package`'s templates/ (every value a candidate's text)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
