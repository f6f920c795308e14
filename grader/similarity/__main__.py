"""`python -m grader.similarity [--out DIR] REPORT_DIR...`: similarity across graded submissions.

Writes similarity.json, similarity.md and similarity.html into --out (default reports/similarity-<time>/).
Exit 2: nothing usable was given (the reason on one line).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from grader._cli import USAGE_ERROR, UsageParser
from grader.compare.inputs import CompareError, expand
from grader.similarity import markdown_section, page, similarity_of_reports


def main(argv: list[str] | None = None) -> int:
    parser = UsageParser(prog="python -m grader.similarity", description="Similarity across graded submissions.")
    parser.add_argument("reports", nargs="+", help="grade output directories; globs allowed")
    parser.add_argument("--out", type=Path, default=None, help="where to write the similarity files")
    args = parser.parse_args(argv)
    try:
        paths, notes = expand(args.reports)
    except CompareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    pairs, missing = similarity_of_reports([path.parent for path in paths])
    for note in [*notes, *missing]:
        print(f"note: {note}", file=sys.stderr)
    out: Path = args.out or Path("reports") / time.strftime("similarity-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    (out / "similarity.json").write_text(json.dumps([p.as_dict() for p in pairs], indent=2) + "\n")
    (out / "similarity.md").write_text(markdown_section(pairs))
    (out / "similarity.html").write_text(page(pairs, time.strftime("%Y-%m-%d %H:%M:%S %Z")), encoding="utf-8")
    for pair in pairs:
        if pair.review_suggested:
            print(f"review suggested: {pair.left} <-> {pair.right} ({pair.similarity:.0%})")
    print(out / "similarity.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
