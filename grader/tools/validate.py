"""Prove the grader: the detection matrix, `python -m grader.tools.validate [--only NAME,...] [--out DIR]`.

Grades the exercise (every bug expected `present`), the solution (none), one mutant per catalogued
bug (the solution with only that bug put back, from `tests/mutants/`: exactly its bug `present`, every
other `fixed`) and the alternative correct submissions (`tests/alternatives/<name>`, column
`alt-<name>`: every bug fixed differently from the solution, so every one `fixed`). Prints the matrix
(bugs x submissions) and the contract outcome of each submission, writes it to `matrix.json` under
--out beside each submission's reports, and exits 1 on any miss, false alarm, inconclusive verdict,
failed contract case or failed grade; 0 otherwise. Run it from the repository root (`make validate`):
the mutants and the alternatives live beside the grader's tests.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader.catalogue import load_catalogue
from grader.environment import ROOT
from grader.pipeline import Options, run_grade

if str(ROOT) not in sys.path:  # `tests.mutants` is imported from the checkout, not an installed package
    sys.path.insert(0, str(ROOT))

from tests.mutants import mutant_for

BASELINES = ("exercise", "solution")
ALTERNATIVES_DIR = ROOT / "tests" / "alternatives"
ALT_PREFIX = "alt-"
CELL = {"present": "P", "fixed": "F", "inconclusive": "?"}


@dataclass
class Column:
    """One graded submission: what each bug should be, and what the grade said."""

    name: str
    expected: dict[str, str]
    verdicts: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    contract: dict[str, int] | None = None
    error: str | None = None
    seconds: float = 0.0
    report: str | None = None

    @property
    def mismatches(self) -> list[str]:
        return [bug for bug, want in self.expected.items() if self.verdicts.get(bug) != want]

    @property
    def problems(self) -> list[str]:
        found = [f"{bug}: expected {self.expected[bug]}, got {self.verdicts.get(bug)}" for bug in self.mismatches]
        if self.error:
            found.insert(0, f"grade failed: {self.error}")
        elif self.contract is None or self.contract["failed"]:
            found.append(f"contract: {self.contract_text}")
        return found

    @property
    def contract_text(self) -> str:
        if self.contract is None:
            return "not run"
        passed, failed = self.contract["passed"], self.contract["failed"]
        return f"{passed}/{passed + failed}"


def alternatives() -> list[str]:
    """Column names of the alternative correct submissions: `alt-<dir>` for each tests/alternatives/<dir>/app."""
    return sorted(f"{ALT_PREFIX}{main.parent.parent.name}" for main in ALTERNATIVES_DIR.glob("*/app/main.py"))


def expectations(name: str, bug_ids: list[str]) -> dict[str, str]:
    """exercise: every bug present; solution and the alternatives: none; a mutant: exactly its own bug."""
    if name == "exercise":
        return dict.fromkeys(bug_ids, "present")
    return {bug: "present" if bug == name else "fixed" for bug in bug_ids}


def grade_column(column: Column, out: Path, seed: int, say: Any) -> None:
    """Grade one submission (a mutant is built into a temp dir, removed afterwards) into `column`."""
    started = time.monotonic()
    workdir = None
    try:
        if column.name in BASELINES:
            given = ROOT / column.name
        elif column.name.startswith(ALT_PREFIX):
            given = ALTERNATIVES_DIR / column.name.removeprefix(ALT_PREFIX)
        else:
            workdir = Path(tempfile.mkdtemp(prefix="mutant-"))
            given = mutant_for(column.name).build(workdir / column.name)
        report, written = run_grade(str(given), Options(seed=seed, out=out / column.name, skip_load=True), say=say)
        column.report = str(written / "report.md")
        column.verdicts = {bug["id"]: bug["verdict"] for bug in report["bugs"]}
        column.values = {bug["id"]: bug["value"] for bug in report["bugs"]}
        if report["contract"] is not None:
            column.contract = {"passed": report["contract"]["passed"], "failed": report["contract"]["failed"]}
        if report["error"]:
            column.error = str(report["error"])
    except Exception as exc:  # one submission's failure is a cell of the matrix, not the end of the run
        column.error = f"{type(exc).__name__}: {exc}"
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        column.seconds = round(time.monotonic() - started, 1)


def render(columns: list[Column], bug_ids: list[str]) -> str:
    """The matrix as text: a row per bug, a column per submission; `!` marks a cell that is wrong."""
    labels = {c.name: ("ex" if c.name == "exercise" else "sol" if c.name == "solution" else "") for c in columns}
    alts = [c.name for c in columns if c.name.startswith(ALT_PREFIX)]
    for column in columns:
        if column.name in alts:
            labels[column.name] = f"a{alts.index(column.name) + 1}"
        elif not labels[column.name]:
            labels[column.name] = f"m{bug_ids.index(column.name) + 1}"
    width = max(len(bug) for bug in [*bug_ids, "contract"]) + 6
    lines = [" " * width + "".join(f"{labels[c.name]:>7}" for c in columns)]
    for row, bug in enumerate(bug_ids, start=1):
        cells = []
        for column in columns:
            cell = CELL.get(column.verdicts.get(bug, ""), "-")
            cells.append(f"{cell + ('!' if bug in column.mismatches else ''):>7}")
        lines.append(f"{row:>3}  {bug:<{width - 5}}" + "".join(cells))
    lines.append(f"{'':>3}  {'contract':<{width - 5}}" + "".join(f"{c.contract_text:>7}" for c in columns))
    lines.append(f"{'':>3}  {'seconds':<{width - 5}}" + "".join(f"{c.seconds:>7.0f}" for c in columns))
    lines.append("")
    lines.append("P present, F fixed, ? inconclusive, - not graded; ! differs from the expectation")
    lines.append("ex = exercise (all P expected), sol = solution (all F), mN = the mutant of bug row N (only N is P)")
    if alts:
        named = ", ".join(f"a{n} = {name}" for n, name in enumerate(alts, start=1))
        lines.append(f"aN = an alternative correct submission (all F): {named}")
    return "\n".join(lines)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m grader.tools.validate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated submissions: exercise, solution, bug ids (their mutants) and/or alt-<name>",
    )
    parser.add_argument("--out", type=Path, help="where reports and matrix.json go (default reports/validate-<time>)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--verbose", "-v", action="store_true", help="print every phase of every grade")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    bug_ids = list(load_catalogue().ids)
    names = [*BASELINES, *bug_ids, *alternatives()]
    if args.only:
        wanted = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            print(f"unknown submission(s): {', '.join(unknown)}; choose from {', '.join(names)}", file=sys.stderr)
            return 2
        names = [name for name in names if name in wanted]
    out: Path = args.out or ROOT / "reports" / f"validate-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    columns = [Column(name, expectations(name, bug_ids)) for name in names]
    started = time.monotonic()
    for number, column in enumerate(columns, start=1):
        print(f"[{number}/{len(columns)}] grading {column.name}", flush=True)
        grade_column(column, out, args.seed, say=(print if args.verbose else lambda _: None))
        verdict = "ok" if not column.problems else "; ".join(column.problems)
        print(f"    {column.seconds:.0f} s, contract {column.contract_text}: {verdict}", flush=True)
    print()
    print(render(columns, bug_ids))
    failures = {c.name: c.problems for c in columns if c.problems}
    out.mkdir(parents=True, exist_ok=True)
    matrix = {
        "seed": args.seed,
        "seconds": round(time.monotonic() - started, 1),
        "bugs": bug_ids,
        "ok": not failures,
        "failures": failures,
        "submissions": [asdict(c) | {"mismatches": c.mismatches} for c in columns],
    }
    (out / "matrix.json").write_text(json.dumps(matrix, indent=2, default=str) + "\n")
    print(f"\nmatrix: {out / 'matrix.json'}")
    for name, problems in failures.items():
        for problem in problems:
            print(f"FAIL {name}: {problem}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
