"""The reviewer's guide: what to read and what to ask, per candidate, tied to what the grade measured."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from grader.catalogue import load_catalogue
from grader.guide._fixes import locations
from grader.guide._notes import notes_html

INTERVIEW = Path(__file__).with_name("interview.toml")
MAX_CLAIMS = 2
CLAIM_CHARS = 240
LOG_LINES = 30
LOG_CHARS = 3000
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n\s*[-*+]\s+|\n#+\s*")


@cache
def interview() -> dict[str, Any]:
    with INTERVIEW.open("rb") as handle:
        data: dict[str, Any] = tomllib.load(handle)
    return data


def _load_line(load: Mapping[str, Any]) -> str:
    """One sentence of the candidate's load figures against the reference, or why there are none."""
    index = load.get("index") or {}
    if load.get("status") == "skipped" or not index:
        return "(no load figures: the load phase did not run)."
    line = (
        f"under load the p95 was {index.get('p95', 0):.1f}x and the throughput {index.get('throughput', 0):.2f}x "
        f"the reference's (geometric means over {index.get('scenarios', 0)} scenarios)"
    )
    for scenario in load.get("scenarios") or []:
        ratio = ((scenario.get("ratios") or {}).get("all requests") or {}).get("p99")
        if scenario.get("name") == "spike" and scenario.get("valid") and ratio is not None:
            line += f", and in the traffic spike the p99 was {ratio:.1f}x"
    return line + "."


def _claims(notes: str | None, words: list[str], verdict: str) -> list[dict[str, str]]:
    if not notes:
        return []
    found = []
    for sentence in _SENTENCE.split(notes):
        text = " ".join(sentence.split())
        if text and any(word.lower() in text.lower() for word in words):
            state = {"fixed": "confirmed", "present": "contradicted"}.get(verdict, "unverified")
            found.append({"claim": text[:CLAIM_CHARS], "measured": state})
        if len(found) == MAX_CLAIMS:
            break
    return found


def _bounded(log: str) -> list[str]:
    lines = log.splitlines()[-LOG_LINES:]
    kept, size = [], 0
    for line in reversed(lines):
        size += len(line) + 1
        if size > LOG_CHARS:
            break
        kept.append(line[:300])
    return list(reversed(kept))


def build_guide(
    report: Mapping[str, Any],
    *,
    code: Mapping[str, str],
    exercise: Mapping[str, str],
    notes: str | None,
    notes_cut: bool = False,
    history: Mapping[str, Any] | None,
    history_why: str = "",
    case_logs: Mapping[str, str] | None = None,
    probe_logs: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The guide's content (report.json `guide`); the renderers only lay it out."""
    catalogue = load_catalogue()
    questions = interview()["bug"]
    load_line = _load_line(report.get("load") or {})
    bugs = []
    for bug in report.get("bugs") or []:
        entry = catalogue.bug(bug["id"]) if bug["id"] in {b.id for b in catalogue.bugs} else None
        asked = questions.get(bug["id"], {})
        verdict = bug.get("verdict", "inconclusive")
        template = asked.get("fixed" if verdict == "fixed" else "present") or (
            f"We measured {{measured}}. Talk me through how you approached: {bug.get('title', bug['id'])}."
        )
        measured = str(bug.get("message") or "nothing")
        if verdict == "inconclusive":  # no number to hold up: ask about the code instead
            template = template.replace("We measured {measured}.", "We could not measure this ({measured}).")
        question = template.replace("{measured}", measured).replace("{load}", load_line)
        bugs.append(
            {
                "id": bug["id"],
                "title": bug.get("title", ""),
                "verdict": verdict,
                "topic": asked.get("topic", "load testing and bottleneck analysis"),
                "question": question,
                "where": locations(entry.where, code, exercise) if entry and verdict == "fixed" else [],
                "claims": _claims(notes, list(asked.get("claims", [])), verdict),
            }
        )
    failures = []
    for case in (report.get("contract") or {}).get("cases") or []:
        if case.get("outcome") != "passed":
            log = (case_logs or {}).get(case["name"], "")
            failures.append({"case": case["name"], "message": case.get("message", ""), "app_log": _bounded(log)})
    for bug in report.get("bugs") or []:
        if logged := (probe_logs or {}).get(bug["id"]):
            failures.append({"case": f"probe {bug['id']}", "message": bug.get("message", ""), "app_log": logged})
    return {
        "notes": None if notes is None else {"text": notes, "html": notes_html(notes), "cut": notes_cut},
        "history": dict(history) if history else None,
        "history_why": "" if history else history_why,
        "load": load_line,
        "bugs": bugs,
        "topics": sorted({b["topic"] for b in bugs}),
        "failures": failures,
    }
