"""The grader's command line.

    python -m grader grade PATH [--out DIR] [--quick] [--skip-load] [--seed N] [--only ID,...]
                                [--scenarios NAME,...] [--scenario-dir DIR] [--workers N]
                                [--reference auto|fresh|none]

PATH is a directory holding app/main.py, a .tar.gz of one, or a git repository (a path or a URL, cloned
locally). Writes report.json, report.md, junit.xml and results.json (Gradescope) into --out (default
reports/<name>-<timestamp>/), prints a summary and the report's path, and exits 0 whenever a report was
produced, whatever the score.
Exit 2: no grade could be produced from what was given (the reason on one line); 1: the grader's own
infrastructure failed; 130: stopped by Ctrl-C, SIGTERM or SIGHUP, once all it started is stopped.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

from grader._cli import USAGE_ERROR, UsageParser
from grader.catalogue import load_catalogue
from grader.load import LoadOptions, ScenarioError, load_scenarios
from grader.load.scenario import SCENARIO_DIR
from grader.pipeline import Options, SubmissionUnusable, run_grade
from grader.runner import sandbox

INFRASTRUCTURE_ERROR = 1


def _parser() -> argparse.ArgumentParser:
    parser = UsageParser(prog="python -m grader", description="Grade a FastAPI concurrency submission.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=UsageParser)
    grade = commands.add_parser("grade", help="grade a submission")
    grade.add_argument("path", help="a directory with app/main.py, a .tar.gz of one, or a git repository")
    grade.add_argument("--out", type=Path, default=None, help="where to write the reports")
    grade.add_argument("--seed", type=int, default=None, help="seed for the contract's random data (reproduce a run)")
    grade.add_argument(
        "--quick", action="store_true", help="a first look: no load, nor the three probes that wait out long faults"
    )
    grade.add_argument("--skip-load", action="store_true", help="no load phase")
    grade.add_argument("--only", default="", help="comma-separated bug ids to probe (default: all)")
    grade.add_argument("--scenarios", default="", help="comma-separated scenario names to run (default: all)")
    grade.add_argument("--scenario-dir", type=Path, default=SCENARIO_DIR, help="where the scenario files are")
    grade.add_argument(
        "--workers", type=int, default=1, help="load generator processes: >1 runs Locust as a master and N workers"
    )
    grade.add_argument(
        "--remote-workers", type=int, default=0, help="also wait for N Locust workers on other machines (README)"
    )
    grade.add_argument("--master-bind", default="127.0.0.1", help="where the Locust master listens for workers")
    grade.add_argument("--master-port", type=int, default=0, help="the Locust master's port (default: a free one)")
    grade.add_argument(
        "--reference",
        choices=("auto", "fresh", "none"),
        default="auto",
        help="the reference solution's run: auto reuses a cached run of this machine and kit, else runs it",
    )
    return parser


def _summary(report: dict[str, Any], out: Path) -> str:
    lines = []
    score = report.get("score")
    if report["status"] == "error":
        lines.append(f"no grade: {report['error']}")
    elif score:
        card = score.get("scorecard") or {}
        lost = (card.get("contract") or {}).get("lost") or 0
        lines.append(
            f"score {score['overall']:g}/100"
            + (f" ({lost:g} points lost to the contract)" if lost else "")
            + (" (partial)" if card.get("partial") else "")
            + (f"; recommendation: {card['band']} ({card['band_note']})" if card.get("band") else "")
        )
        if left_out := card.get("left_out"):
            shown = ", ".join(f"{item['id']} ({item['state']})" for item in left_out)
            lines.append(f"partial score: {len(left_out)} left out, neither earned nor lost: {shown}")
    for flag in report.get("red_flags", []):
        lines.append(f"red flag: {flag['title']}")
    if report.get("contract"):
        lines.append(f"contract: {report['contract']['passed']} passed, {report['contract']['failed']} failed")
    only = set(report["options"]["only"])
    for bug in report["bugs"]:
        if not only or bug["id"] in only:
            lines.append(f"  {bug['verdict']:<12} {bug['id']:<28} {bug['message']}")
    load = report.get("load") or {}
    if load.get("status") == "ran":
        index = load.get("index") or {}
        invalid = [s["name"] for s in load.get("scenarios", []) if not s.get("valid")]
        lines.append(
            f"load: {len(load.get('scenarios', []))} scenarios, reference {load['reference'].get('source')}; "
            f"p95 {index.get('p95')}x and throughput {index.get('throughput')}x the reference's (geometric means)"
            + (f"; INVALID runs: {', '.join(invalid)}" if invalid else "")
        )
    lines.append(sandbox().summary())  # how far this grade's app was confined, every time
    latency = ", latency.json" if load.get("status") == "ran" else ""
    also = f"report.md, report.json{latency}, junit.xml, results.json"
    lines.append(f"report: {out / 'report.html'} (and {also})")
    return "\n".join(lines)


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    only = tuple(item for item in args.only.split(",") if item)
    unknown = sorted(set(only) - set(load_catalogue().ids))
    if unknown:
        print(f"error: unknown bug id(s): {', '.join(unknown)}", file=sys.stderr)
        return USAGE_ERROR
    if not 1 <= args.workers <= 64 or not 0 <= args.remote_workers <= 1000:
        print("error: --workers must be between 1 and 64, --remote-workers between 0 and 1000", file=sys.stderr)
        return USAGE_ERROR
    seed = args.seed if args.seed is not None else int(time.time()) % 100_000
    scenarios = tuple(item for item in args.scenarios.split(",") if item)
    if not (args.skip_load or args.quick):
        try:
            load_scenarios(args.scenario_dir, scenarios)  # a typo fails here, before anything starts
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return USAGE_ERROR
    load = LoadOptions(
        seed=seed,
        workers=args.workers,
        remote_workers=args.remote_workers,
        master_bind=args.master_bind,
        master_port=args.master_port,
        reference=args.reference,
        scenario_dir=args.scenario_dir,
        scenarios=scenarios,
    )
    options = Options(seed=seed, out=args.out, quick=args.quick, skip_load=args.skip_load, only=only, load=load)
    print(f"grading {args.path} (seed {seed})", flush=True)
    if sandbox().weakened:  # before the grade and again in its summary: never weaker without saying so
        print(f"WARNING: {sandbox().summary()}", file=sys.stderr, flush=True)
    for stopping in (signal.SIGTERM, signal.SIGHUP):  # as Ctrl-C: the grade unwinds and stops all it started
        signal.signal(stopping, _interrupt)
    try:
        report, out = run_grade(args.path, options, say=lambda line: print(line, flush=True))
    except SubmissionUnusable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(_summary(report, out), flush=True)
    return INFRASTRUCTURE_ERROR if report["status"] == "error" else 0
