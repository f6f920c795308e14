"""The guide as guide.md, as a section of report.md, and as a section of report.html (jinja2, autoescaped)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from grader.report.page import templates

_ENV = templates("grader.guide")
_INLINE = re.compile(r"[\\`*_\[\]<>&|~#]")


def _md(text: object) -> str:
    """Running Markdown text: the candidate's characters taken literally, on one line."""
    return _INLINE.sub(r"\\\g<0>", " ".join(str(text).split()))


def _fence(text: str) -> list[str]:
    """`text` verbatim in a fence no line of it can close."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", *text.splitlines(), fence]


def markdown(guide: Mapping[str, Any], *, heading: str = "#") -> list[str]:
    lines = [f"{heading} Reviewer's guide", ""]
    history = guide.get("history")
    if history:
        lines += [
            f"{heading}# Git history",
            "",
            f"{history['commits']} commits from {history['first_commit']} to {history['last_commit']} "
            f"({history['span_hours']} h); the largest commit holds {history['largest_commit_share']:.0%} of "
            f"{history['lines_changed']} changed lines; {history['files_changed']} files changed "
            f"(counted from {history['counted_from']}).",
            "",
        ]
    elif guide.get("history_why"):
        lines += [f"{heading}# Git history", "", f"None: {_md(guide['history_why'])}.", ""]
    lines += [f"{heading}# Questions, bug by bug", "", f"Load: {_md(guide['load'])}", ""]
    for bug in guide["bugs"]:
        lines.append(f"- **{_md(bug['title'])}** ({bug['verdict']}; {bug['topic']}): {_md(bug['question'])}")
        if bug["where"]:
            lines.append(f"  - where: {', '.join('`' + w.replace('`', '') + '`' for w in bug['where'])}")
        for claim in bug["claims"]:
            lines.append(f'  - NOTES.md says "{_md(claim["claim"])}": {claim["measured"]} by the measurement')
    lines.append("")
    if guide["failures"]:
        lines += [f"{heading}# Why things failed", "", "The app's own output while each contract case ran, and the"]
        lines += ["traceback it logged during a probe that did not pass.", ""]
        for failure in guide["failures"]:
            lines += [f"- `{failure['case']}`: {_md(failure['message'])}", ""]
            lines += [*_fence("\n".join(failure["app_log"]) or "(the app wrote nothing meanwhile)"), ""]
    notes = guide.get("notes")
    lines += [f"{heading}# NOTES.md", ""]
    if notes is None:
        lines += ["The submission has no NOTES.md.", ""]
    else:
        lines += [*_fence(notes["text"]), *(["(cut at 64 KiB)"] if notes["cut"] else []), ""]
    return lines


def guide_markdown(guide: Mapping[str, Any], name: str) -> str:
    return "\n".join([f"# Interview guide: {_md(name)}", "", *markdown(guide, heading="#")[2:]]) + "\n"


def html_section(guide: Mapping[str, Any]) -> str:
    return _ENV.get_template("guide.html.j2").render(guide=guide)
