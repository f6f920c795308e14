"""Feedback a candidate may see: per scorecard category, what held and what did not, as symptoms in the
words of their brief, and their own load figures. Never bug ids, test names, thresholds or the reference's
numbers; `make test` runs the kit's leak check on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2

from grader.catalogue import load_catalogue
from grader.feedback._words import GENERIC, SYMPTOMS

_LOADER = jinja2.PackageLoader("grader.feedback", "templates")
_HTML = jinja2.Environment(loader=_LOADER, autoescape=True, undefined=jinja2.StrictUndefined)
# Markdown is text: nothing to escape for a browser, but layout matters (one line per item).
_MARKDOWN = jinja2.Environment(
    loader=_LOADER,
    autoescape=False,  # noqa: S701 - Markdown output, never served as HTML
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def content(report: Mapping[str, Any]) -> dict[str, Any]:
    """What the feedback says, as data: categories with what held and what did not, and load figures."""
    catalogue = load_catalogue()
    by_id = {bug["id"]: bug for bug in report.get("bugs") or []}
    categories = []
    for category in catalogue.categories:
        held, failed, unknown = [], [], []
        for bug in (b for b in catalogue.bugs if b.category == category):
            words = SYMPTOMS.get(bug.id, GENERIC)
            verdict = (by_id.get(bug.id) or {}).get("verdict")
            if verdict == "fixed":
                held.append(words[0])
            elif verdict == "present":
                failed.append(words[1])
            else:
                unknown.append(f"We could not tell whether this held: {words[0][0].lower()}{words[0][1:]}")
        categories.append({"name": category, "held": held, "failed": failed, "unknown": unknown})
    contract = report.get("contract") or {}
    functional = (
        None
        if not contract
        else {"passed": contract.get("passed", 0), "total": contract.get("passed", 0) + contract.get("failed", 0)}
    )
    return {
        "name": (report.get("submission") or {}).get("name", "your submission"),
        "error": report.get("error"),
        "functional": functional,
        "categories": categories,
        "load": _own_load(report.get("load") or {}),
    }


# The scenarios in a candidate's words (their files are hidden, and "catalogue" is a word of ours).
SCENARIO_LABELS = {
    "catalogue-reads": "Shoppers browsing products",
    "checkout-slow-payments": "Checkout with a slow payments provider",
    "degraded-upstream": "A bad day at the payments provider",
    "spike": "A sudden rush of shoppers",
    "realistic-mix": "A day's mix of traffic",
}


def _own_load(load: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The candidate's own figures per scenario (all requests together), without the reference's."""
    rows: list[dict[str, Any]] = []
    for scenario in load.get("scenarios") or []:
        candidate = scenario.get("candidate") or {}
        overall = (candidate.get("endpoints") or {}).get("all requests") or {}
        if not overall:
            endpoints = list((candidate.get("endpoints") or {}).values())
            overall = endpoints[0] if len(endpoints) == 1 else {}
        rows.append(
            {
                "title": SCENARIO_LABELS.get(str(scenario.get("name")), f"Scenario {len(rows) + 1}"),
                "valid": bool(scenario.get("valid")),
                "rps": overall.get("throughput_rps"),
                "p50": overall.get("p50_ms"),
                "p95": overall.get("p95_ms"),
                "p99": overall.get("p99_ms"),
                "errors": overall.get("errors"),
                "requests": overall.get("requests"),
            }
        )
    return rows


def render_markdown(report: Mapping[str, Any]) -> str:
    return _MARKDOWN.get_template("feedback.md.j2").render(**content(report))


def render_html(report: Mapping[str, Any]) -> str:
    return _HTML.get_template("feedback.html.j2").render(**content(report))


__all__ = ["content", "render_html", "render_markdown"]
