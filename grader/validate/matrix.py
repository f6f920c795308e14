"""Prove the grader: the detection matrix, `python -m grader.validate [--only NAME,...] [--out DIR]`.

Grades the exercise (every bug expected `present`), the solution (none), one mutant per catalogued
bug (the solution with only that bug put back, from `grader/proof/mutants/`: exactly its bug `present`,
every other `fixed`; its variants `<bug id>@<where>` put the same bug back in one more place), the
alternative correct submissions (`grader/proof/alternatives/<name>`, column `alt-<name>`: every bug fixed
differently from the solution, so every one `fixed`) and the traps (`grader/proof/traps/<name>`, column
`trap-<name>`: what a candidate might write, each with the verdicts and the contract outcome an expert
reviewer gives in its expected.toml; see grader/proof/traps.py). Prints the matrix (bugs x submissions)
and the contract outcome of each submission, writes it to `matrix.json` under --out beside each
submission's reports, and exits 1 on any miss, false alarm, inconclusive verdict, failed contract case
(for a trap: a contract outcome or integrity findings other than expected) or failed grade; 0 otherwise
(`make validate`).

Then repeatability (`--repeat N`, default 3): a few submissions (`--repeat-on`) are graded N more times,
each with the load phase on a few scenarios (`--repeat-scenarios`), with the same seed. Their verdicts
must be the same in every run (the matrix's grade included; any difference fails, bug by bug), and the
spread of their normalised latency (candidate over reference: p95 and throughput per scenario, and
load.index p95) is printed and written to matrix.json; an invalid load run is listed, not counted.
`--budget SECONDS` stops before the grade that would likely pass it (judged by the durations so far):
the rest are reported as not run, which does not fail the run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader._cli import USAGE_ERROR, UsageParser
from grader.catalogue import load_catalogue
from grader.environment import ROOT
from grader.load import LoadOptions, ScenarioError, load_scenarios
from grader.pipeline import Options, run_grade
from grader.proof import alternatives as alternative
from grader.proof import traps
from grader.proof.mutants import mutant_for, variant_names
from grader.validate import repeat as _repeat
from grader.validate.budget import Budget, skipped_text

BASELINES = ("exercise", "solution")
ALT_PREFIX = alternative.PREFIX
CELL = {"present": "P", "fixed": "F", "inconclusive": "?"}
REPEAT_ON = ("exercise", "solution", "sync-db-driver", "n-plus-one")  # a blocked loop and a query-count bug
REPEAT_SCENARIOS = ("catalogue-reads", "spike")
LOAD_OVERHEAD_S = 10.0  # per scenario and app beyond its duration (deploy, Locust), until a repeat has run
NOT_RUN = "not run (budget)"


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
    repeat: int = 0  # 0: the matrix's grade, without load; k: the k-th repeat, with the load phase
    load: dict[str, Any] | None = None  # report.json's load section (repeats)
    skipped: str | None = None
    contract_passes: bool = True  # a trap may be expected to fail the contract
    integrity: bool | None = None  # a trap's: whether it reports only work it did (None: not checked)
    integrity_findings: list[str] = field(default_factory=list)
    # a trap's known gaps: bug -> (the verdict today's grader gives, why it differs from the expert's)
    gaps: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "repeat" if self.repeat else "matrix"

    @property
    def label(self) -> str:
        return f"{self.name} r{self.repeat}" if self.repeat else self.name

    @property
    def mismatches(self) -> list[str]:
        if self.skipped:
            return []
        return [
            bug
            for bug, want in self.expected.items()
            if self.verdicts.get(bug) != want and self.verdicts.get(bug) != self.gaps.get(bug, ("", ""))[0]
        ]

    @property
    def known_gaps(self) -> list[str]:
        """The bugs graded as a recorded gap says (accepted, listed), not as the expert's verdict."""
        if self.skipped:
            return []
        return [bug for bug, (grader, _) in self.gaps.items() if self.verdicts.get(bug) == grader != self.expected[bug]]

    @property
    def problems(self) -> list[str]:
        if self.skipped:
            return []
        found = [f"{bug}: expected {self.expected[bug]}, got {self.verdicts.get(bug)}" for bug in self.mismatches]
        if self.error:
            found.insert(0, f"grade failed: {self.error}")
        elif self.contract_mismatch:
            found.append(f"contract: {self.contract_text}" + ("" if self.contract_passes else ", expected to fail"))
        if not self.error and self.integrity is not None and bool(self.integrity_findings) == self.integrity:
            said = "; ".join(self.integrity_findings) or "no integrity finding"
            found.append(f"integrity: expected {'none' if self.integrity else 'a finding'}, the grade says {said}")
        return found

    @property
    def contract_mismatch(self) -> bool:
        """Not run, or failed where it should pass (a trap: passed where it should fail)."""
        return not self.skipped and (self.contract is None or bool(self.contract["failed"]) == self.contract_passes)

    @property
    def contract_text(self) -> str:
        if self.skipped:
            return "skip"
        if self.contract is None:
            return "not run"
        passed, failed = self.contract["passed"], self.contract["failed"]
        return f"{passed}/{passed + failed}"


def alternatives() -> list[str]:
    """Column names of the alternative correct submissions: `alt-<dir>` for each grader/proof/alternatives/<dir>."""
    return [f"{ALT_PREFIX}{name}" for name in alternative.names()]


def expectations(name: str, bug_ids: list[str]) -> dict[str, str]:
    """exercise: every bug present; solution and the alternatives: none; a mutant: exactly its own bug;
    a trap: its expected.toml."""
    if traps.is_column(name):
        return traps.for_column(name, bug_ids).verdicts(bug_ids)
    if name == "exercise":
        return dict.fromkeys(bug_ids, "present")
    own = name.partition("@")[0]  # a variant (`<bug id>@<where>`) expects its bug, like the mutant
    also = {bug for bug, _ in mutant_for(name).also_present} if own in bug_ids else set()
    return {bug: "present" if bug == own or bug in also else "fixed" for bug in bug_ids}


def plan(names: list[str], bug_ids: list[str], repeat: int, repeat_on: list[str]) -> list[Column]:
    """Every grade in the order it runs: the matrix (as `names` lists it), then the repeats round by round."""
    columns = [_column(name, expectations(name, bug_ids), bug_ids) for name in names]
    rounds = [
        _column(name, expectations(name, bug_ids), bug_ids, k) for k in range(1, repeat + 1) for name in repeat_on
    ]
    return columns + rounds


def _column(name: str, expected: dict[str, str], bug_ids: list[str], repeat: int = 0) -> Column:
    """A column expecting `expected`; a trap's also its contract outcome and integrity."""
    if not traps.is_column(name):
        return Column(name, expected, repeat=repeat)
    trap = traps.for_column(name, bug_ids).expected
    gaps = {bug: (str(gap.grader), gap.reason) for bug, gap in trap.gaps.items()}
    return Column(
        name, expected, repeat=repeat, contract_passes=trap.contract.passes, integrity=trap.integrity, gaps=gaps
    )


def run_plan(
    columns: list[Column],
    budget: Budget,
    grade: Callable[[Column], None],
    clock: Callable[[], float] = time.monotonic,
    say: Callable[[str], None] = print,
) -> None:
    """Grade the columns in order while the budget allows; the rest are marked not run."""
    started = clock()
    for number, column in enumerate(columns, start=1):
        if not budget.allows(column.kind, clock() - started):
            if not any(c.skipped for c in columns):
                left = (budget.seconds or 0) - (clock() - started)
                say(
                    f"budget: {max(left, 0):.0f} s left and {column.label} would take about "
                    f"{budget.estimate(column.kind):.0f} s: it and the {len(columns) - number} after it are not run"
                )
            column.skipped = NOT_RUN
            continue
        say(f"[{number}/{len(columns)}] grading {column.label}" + (" (with load)" if column.repeat else ""))
        grade(column)
        budget.record(column.kind, column.seconds)
        say(f"    {column.seconds:.0f} s, contract {column.contract_text}: {'; '.join(column.problems) or 'ok'}")


def repeatability(columns: list[Column], scenarios: list[str]) -> dict[str, dict[str, Any]]:
    """Per repeated submission with at least one repeat graded: its runs' agreement and load spread."""
    summaries: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(c.name for c in columns if c.repeat and not c.skipped):
        runs = [
            _repeat.Run(
                label=f"r{c.repeat}" if c.repeat else "matrix",
                verdicts=c.verdicts,
                contract=c.contract_text,
                error=c.error,
                load=c.load,
                measured=bool(c.repeat),
            )
            for c in columns
            if c.name == name and not c.skipped
        ]
        summaries[name] = _repeat.summarise(runs, scenarios)
    return summaries


def grade_column(column: Column, out: Path, seed: int, say: Any, load: LoadOptions | None = None) -> None:
    """Grade one submission (a mutant is built into a temp dir, removed afterwards) into `column`;
    a repeat with the load phase on `load`'s scenarios, the matrix's grade without."""
    started = time.monotonic()
    workdir = None
    try:
        if column.name in BASELINES:
            given = ROOT / column.name
        elif column.name.startswith(ALT_PREFIX):
            given = alternative.app_root(column.name.removeprefix(ALT_PREFIX))
        elif traps.is_column(column.name):
            given = traps.for_column(column.name).root
        else:
            workdir = Path(tempfile.mkdtemp(prefix="mutant-"))
            given = mutant_for(column.name).build(workdir / column.name)
        where = out / (f"{column.name}-r{column.repeat}" if column.repeat else column.name)
        options = Options(seed=seed, out=where, skip_load=not column.repeat, load=load if column.repeat else None)
        report, written = run_grade(str(given), options, say=say)
        column.report = str(written / "report.md")
        column.verdicts = {bug["id"]: bug["verdict"] for bug in report["bugs"]}
        column.values = {bug["id"]: bug["value"] for bug in report["bugs"]}
        if report["contract"] is not None:
            column.contract = {"passed": report["contract"]["passed"], "failed": report["contract"]["failed"]}
        column.integrity_findings = traps.integrity_findings(report)
        if report["error"]:
            column.error = str(report["error"])
        column.load = report.get("load")
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
    trapped = [c.name for c in columns if traps.is_column(c.name)]
    for column in columns:
        if column.name in alts:
            labels[column.name] = f"a{alts.index(column.name) + 1}"
        elif column.name in trapped:
            labels[column.name] = f"t{trapped.index(column.name) + 1}"
        elif not labels[column.name]:
            bug, _, variant = column.name.partition("@")
            labels[column.name] = f"m{bug_ids.index(bug) + 1}{variant[:2]}"
    width = max(len(bug) for bug in [*bug_ids, "contract"]) + 6
    lines = [" " * width + "".join(f"{labels[c.name]:>7}" for c in columns)]
    for row, bug in enumerate(bug_ids, start=1):
        cells = []
        for column in columns:
            cell = CELL.get(column.verdicts.get(bug, ""), "-")
            mark = "!" if bug in column.mismatches else "~" if bug in column.known_gaps else ""
            cells.append(f"{cell + mark:>7}")
        lines.append(f"{row:>3}  {bug:<{width - 5}}" + "".join(cells))
    contracts = (c.contract_text + ("!" if c.contract_mismatch and not c.error else "") for c in columns)
    lines.append(f"{'':>3}  {'contract':<{width - 5}}" + "".join(f"{text:>7}" for text in contracts))
    lines.append(f"{'':>3}  {'seconds':<{width - 5}}" + "".join(f"{c.seconds:>7.0f}" for c in columns))
    lines.append("")
    lines.append("P present, F fixed, ? inconclusive, - not graded; ! differs from the expectation")
    if gapped := [(c, bug) for c in columns for bug in c.known_gaps]:
        lines.append("~ a known gap of the grader, recorded in the trap's expected.toml (the expert says otherwise):")
        lines += [
            f"    {c.name} {bug}: graded {c.gaps[bug][0]}, expert {c.expected[bug]}: {c.gaps[bug][1]}"
            for c, bug in gapped
        ]
    if any(c.skipped for c in columns):
        lines.append("skip: not run (budget), not a failure")
    lines.append("ex = exercise (all P expected), sol = solution (all F), mN = the mutant of bug row N (only N is P)")
    if any("@" in c.name for c in columns):
        lines.append(
            "mNxx = a variant of mN, the same bug put back in one more place: "
            + ", ".join(f"{labels[c.name]} = {c.name}" for c in columns if "@" in c.name)
        )
    if alts:
        named = ", ".join(f"a{n} = {name}" for n, name in enumerate(alts, start=1))
        lines.append(f"aN = an alternative correct submission (all F): {named}")
    if trapped:
        named = ", ".join(f"t{n} = {name.removeprefix(traps.PREFIX)}" for n, name in enumerate(trapped, start=1))
        lines.append(f"tN = a trap, as its expected.toml says: {named}")
    return "\n".join(lines)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = UsageParser(prog="python -m grader.validate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated submissions: exercise, solution, bug ids (their mutants), alt-<name> and/or trap-<name>",
    )
    parser.add_argument("--out", type=Path, help="where reports and matrix.json go (default reports/validate-<time>)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--repeat", type=int, default=3, help="grade the --repeat-on submissions N more times with load (0: none)"
    )
    parser.add_argument(
        "--repeat-on",
        default=",".join(REPEAT_ON),
        help="the submissions to repeat (those also in the run); default %(default)s",
    )
    parser.add_argument(
        "--repeat-scenarios", default=",".join(REPEAT_SCENARIOS), help="the repeats' load scenarios (%(default)s)"
    )
    parser.add_argument(
        "--budget", type=float, help="seconds for the whole run: grades that would not fit are reported as not run"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="print every phase of every grade")
    return parser.parse_args(argv)


def _usage_error(args: argparse.Namespace, names: list[str]) -> str | None:
    """What is wrong with the arguments, in one line, or None."""
    for option, given in (("--only", args.only), ("--repeat-on", args.repeat_on)):
        if unknown := sorted(set(_names(given)) - set(names)):
            return f"{option}: unknown submission(s): {', '.join(unknown)}; choose from {', '.join(names)}"
    if args.repeat < 0:
        return "--repeat must be 0 or more"
    if args.budget is not None and args.budget < 0:
        return "--budget must be 0 or more seconds"
    return None


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    bug_ids = list(load_catalogue().ids)
    # a budget cuts from the end: the alternatives (which `make test` does not grade whole) come first
    names = [*BASELINES, *alternatives(), *bug_ids, *traps.columns(), *variant_names()]
    if error := _usage_error(args, names):
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    if args.only:
        names = [name for name in names if name in _names(args.only)]
    repeat_on = [name for name in names if name in _names(args.repeat_on)] if args.repeat else []
    try:
        scenarios = load_scenarios(names=tuple(_names(args.repeat_scenarios)))
    except ScenarioError as exc:
        print(f"error: --repeat-scenarios: {exc}", file=sys.stderr)
        return USAGE_ERROR
    scenario_names = [s.name for s in scenarios]
    load = LoadOptions(seed=args.seed, scenarios=tuple(scenario_names), reference="auto")
    out: Path = args.out or ROOT / "reports" / f"validate-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    columns = plan(names, bug_ids, args.repeat, repeat_on)
    # before a repeat has run: a plain grade plus each scenario against the candidate and a fresh reference
    budget = Budget(args.budget, extra={"repeat": 2 * sum(s.duration_s + LOAD_OVERHEAD_S for s in scenarios)})
    started = time.monotonic()
    say = print if args.verbose else (lambda _: None)
    run_plan(columns, budget, lambda column: grade_column(column, out, args.seed, say, load), say=_flushed)
    matrix_columns = [c for c in columns if not c.repeat]
    print()
    print(render(matrix_columns, bug_ids))
    failures = {c.name: c.problems for c in matrix_columns if c.problems}
    summaries = repeatability(columns, scenario_names)
    if summaries:
        print(f"\nrepeatability (seed {args.seed}, ratios candidate/reference, invalid runs not counted):")
        print(_repeat.render(summaries, scenario_names))
    for name, summary in summaries.items():
        if lines := _repeat.problems(name, summary):
            failures[f"repeat {name}"] = lines
    skipped = [c for c in columns if c.skipped]
    skipped_s = sum(budget.estimate(c.kind) for c in skipped)
    out.mkdir(parents=True, exist_ok=True)
    matrix = {
        "seed": args.seed,
        "seconds": round(time.monotonic() - started, 1),
        "bugs": bug_ids,
        "ok": not failures,
        "complete": not skipped,
        "failures": failures,
        "budget": {
            "seconds": args.budget,
            "not_run": [c.label for c in skipped],
            "not_run_estimated_s": round(skipped_s),
        },
        "submissions": [_shown(c) for c in matrix_columns],
        "repeatability": {
            "repeat": args.repeat,
            "seed": args.seed,
            "scenarios": scenario_names,
            "grades": [_shown(c) for c in columns if c.repeat],
            "submissions": summaries,
        },
    }
    (out / "matrix.json").write_text(json.dumps(matrix, indent=2, default=str) + "\n")
    print(f"\nmatrix: {out / 'matrix.json'}")
    if skipped:
        print(skipped_text([c.label for c in skipped], skipped_s, args.budget))
    for name, problems in failures.items():
        for problem in problems:
            print(f"FAIL {name}: {problem}")
    return 1 if failures else 0


def _shown(column: Column) -> dict[str, Any]:
    """A column for matrix.json: the load section stays in the grade's own report."""
    shown = asdict(column) | {"mismatches": column.mismatches, "known_gaps": column.known_gaps}
    del shown["load"]
    return shown


def _flushed(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
