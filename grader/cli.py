"""The grader's command line: `python -m grader grade PATH [--seed N] [--only ID,...]`.

This first version runs the pipeline that exists so far — infrastructure, the submission, the contract
suite, one probe per catalogued bug — and prints what it measured. Reports (report.json, report.md) and
load scenarios come with the grader and load-report issues.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from grader.catalogue import load_catalogue
from grader.contract import run_contract
from grader.infra.stack import infrastructure
from grader.probes import ProbeResult, ProbeTarget, probe_for
from grader.runner.app_process import AppStartError
from grader.runner.deploy import deploy
from grader.runner.submission import SubmissionError, private_copy

USAGE_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade a submission directory")
    grade.add_argument("path", type=Path, help="the submission: a directory holding app/main.py")
    grade.add_argument("--seed", type=int, default=None, help="seed for the contract's random data")
    grade.add_argument("--only", default="", help="comma-separated bug ids to probe (default: all)")
    grade.add_argument("--skip-probes", action="store_true", help="run the contract suite only")
    return parser


def _say(text: str) -> None:
    print(text, flush=True)


def grade(path: Path, *, seed: int, only: list[str], skip_probes: bool) -> int:
    catalogue = load_catalogue()
    unknown = sorted(set(only) - set(catalogue.ids))
    if unknown:
        _say(f"error: unknown bug id(s): {', '.join(unknown)}")
        return USAGE_ERROR
    started = time.monotonic()
    with private_copy(path) as app_dir, infrastructure() as infra:
        _say(f"grading {path} (seed {seed})")
        with deploy(infra, app_dir) as deployment:
            contract = asyncio.run(run_contract(deployment, seed=seed))
        _say(f"\ncontract: {contract.passed} passed, {contract.failed} failed")
        for case in contract.failures():
            _say(f"  ✗ {case.name}: {case.message}")
        if skip_probes:
            return 0
        _say("\nprobes:")
        target = ProbeTarget(app_dir=app_dir, infra=infra)
        for bug in catalogue.bugs:
            if only and bug.id not in only:
                continue
            result = _run_probe(bug.id, target)
            _say(f"  {result.verdict:<12} {bug.id:<28} {result.message}")
    elapsed = time.monotonic() - started
    _say(f"\n(first version of the grader: reports, scores and load scenarios come later; {elapsed:.0f} s)")
    return 0


def _run_probe(bug_id: str, target: ProbeTarget) -> ProbeResult:
    try:
        return probe_for(bug_id)(target)
    except AppStartError as exc:
        return ProbeResult(bug_id, "inconclusive", "", None, "", f"the app did not start: {str(exc).splitlines()[0]}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time()) % 100_000
    try:
        return grade(args.path, seed=seed, only=[s for s in args.only.split(",") if s], skip_probes=args.skip_probes)
    except (SubmissionError, AppStartError) as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
