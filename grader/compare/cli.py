"""`python -m grader.compare [--out DIR] REPORT_DIR...`: grades side by side.

Each REPORT_DIR is a grade's --out directory (or its report.json); globs are expanded here too, so a quoted
`"reports/*"` works. Writes compare.html (one self-contained page with charts) and compare.md into --out
(default reports/compare-<timestamp>/) and prints their paths.
Exit 2: what was given cannot be compared (the reason on one line).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from grader._cli import USAGE_ERROR, UsageParser
from grader.compare import model, render
from grader.compare.inputs import CompareError, expand, load
from grader.similarity import html_section, markdown_section, similarity_of_reports


def _parser() -> argparse.ArgumentParser:
    parser = UsageParser(prog="python -m grader.compare", description="Compare grades side by side.")
    parser.add_argument("reports", nargs="+", help="grade output directories (or report.json files); globs allowed")
    parser.add_argument("--out", type=Path, default=None, help="where to write compare.html and compare.md")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        paths, notes = expand(args.reports)
        loaded = [load(path) for path in paths]
    except CompareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    out: Path = args.out or Path("reports") / time.strftime("compare-%Y%m%d-%H%M%S")
    if out.exists() and not out.is_dir():
        print(f"error: {out}: exists and is not a directory", file=sys.stderr)
        return USAGE_ERROR
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    groups = model.groups(model.candidates(loaded))
    created = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    out.mkdir(parents=True, exist_ok=True)
    page, table = out / "compare.html", out / "compare.md"
    pairs, missing = similarity_of_reports([path.parent for path in paths])
    for note in missing:
        print(f"note: similarity: {note}", file=sys.stderr)
    page.write_text(render.html(groups, created, html_section(pairs)), encoding="utf-8")
    table.write_text(render.markdown(groups, created, markdown_section(pairs)), encoding="utf-8")
    for pair in pairs:
        if pair.review_suggested:
            print(f"note: similarity: review suggested for {pair.left} <-> {pair.right} ({pair.similarity:.0%})")
    print(f"note: {render.scoring_note()}", file=sys.stderr)
    if len(groups) > 1:
        print(f"note: {len(groups)} groups of reports that are not comparable with each other", file=sys.stderr)
    print(page)
    print(table)
    return 0
