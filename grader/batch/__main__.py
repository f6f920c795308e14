"""`python -m grader.batch [--out DIR] SUBMISSION... [-- GRADE OPTIONS]`: see grader.batch."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from grader._cli import USAGE_ERROR, UsageParser
from grader.batch import expand, grade_all
from grader.compare.cli import main as compare


def main(argv: list[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    grade_args: list[str] = []
    if "--" in arguments:
        split = arguments.index("--")
        arguments, grade_args = arguments[:split], arguments[split + 1 :]
    parser = UsageParser(prog="python -m grader.batch", description="Grade a cohort, then compare it.")
    parser.add_argument("submissions", nargs="+", help="directories, tarballs, git repositories, or a file of them")
    parser.add_argument("--out", type=Path, default=None, help="where each grade and the comparison go")
    args = parser.parse_args(arguments)
    sources = expand(args.submissions)
    missing = [s for s in sources if "://" not in s and not s.startswith("git@") and not Path(s).exists()]
    if missing:
        print(f"error: no such submission: {missing[0]}", file=sys.stderr)
        return USAGE_ERROR
    out: Path = args.out or Path("reports") / time.strftime("batch-%Y%m%d-%H%M%S")
    outcomes = grade_all(sources, out, grade_args)
    graded = [out / o.name for o in outcomes if o.status != "failed"]
    failed = [o for o in outcomes if o.status == "failed"]
    print(f"batch: {len(graded)} graded, {len(failed)} failed; state in {out / 'batch.json'}")
    if graded:
        compare([*map(str, graded), "--out", str(out / "compare")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
