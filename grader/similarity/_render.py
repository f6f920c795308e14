"""Similarity as Markdown and as HTML (jinja2, autoescaped: every fragment is a candidate's code)."""

from __future__ import annotations

from collections.abc import Sequence

from grader.report.page import templates
from grader.similarity._core import NOISE_K, REVIEW_THRESHOLD, Pair

_ENV = templates("grader.similarity")
SHOWN_PAIRS = 30


def _context(pairs: Sequence[Pair]) -> dict[str, object]:
    return {
        "pairs": [p.as_dict() for p in pairs[:SHOWN_PAIRS]],
        "more": max(0, len(pairs) - SHOWN_PAIRS),
        "threshold": REVIEW_THRESHOLD,
        "k": NOISE_K,
        "flagged": sum(p.review_suggested for p in pairs),
    }


def html_section(pairs: Sequence[Pair]) -> str:
    return _ENV.get_template("section.html.j2").render(**_context(pairs))


def page(pairs: Sequence[Pair], created: str) -> str:
    return _ENV.get_template("page.html.j2").render(section=html_section(pairs), created=created)


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("`", "'").replace("\n", " ")


def markdown_section(pairs: Sequence[Pair]) -> str:
    lines = [
        "## Similarity",
        "",
        f"Code shared beyond the starter code, as a share of the smaller side's own code (copydetect, "
        f"k = {NOISE_K}); **review suggested** at {REVIEW_THRESHOLD:.0%} or more. A reason to look, never a "
        "verdict: independent fixes of the same bug look alike.",
        "",
    ]
    if not pairs:
        return "\n".join([*lines, "No two submissions with code to compare.", ""])
    lines += ["| pair | similarity | shares | |", "| --- | ---: | --- | --- |"]
    for pair in pairs[:SHOWN_PAIRS]:
        flag = "**review suggested**" if pair.review_suggested else ""
        lines.append(
            f"| {_md(pair.left)} ↔ {_md(pair.right)} | {pair.similarity:.0%} "
            f"| {pair.left_share:.0%} / {pair.right_share:.0%} | {flag} |"
        )
    for pair in [p for p in pairs if p.review_suggested][:5]:
        lines += ["", f"### {_md(pair.left)} ↔ {_md(pair.right)}", ""]
        for fragment in pair.fragments[:2]:
            lines += [f"`{_md(fragment.left)}` ↔ `{_md(fragment.right)}`", "", "~~~python"]
            lines += [fragment.left_code.replace("~~~", "~ ~ ~"), "~~~", ""]
    return "\n".join([*lines, ""])
