"""`make bench`: the reference solution against the stack's floors and the exercise, side by side in one run.

    python -m grader.bench [--out DIR] [--rounds N] [--skip-grade] [--skip-wrk] [--check] [--seed N]

Runs the benchmark scenarios (grader/bench/scenarios/) against four apps — the exercise, the solution,
a FastAPI app answering a constant (the framework's ceiling) and a FastAPI + raw asyncpg app serving
the same product read (the stack's limit for that query) — with the app and the load generator on
separate cores; measures the same product read with wrk (when installed) to check the grader's own
numbers; times a full grade and a --quick grade. Prints a table and the targets, writes bench.json.
Performance is judged here, by ratios measured in one run on one machine, never by timed tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from grader.bench import _wrk
from grader.environment import ROOT, describe
from grader.infra.stack import infrastructure
from grader.load import LoadOptions, _cpus, load_scenarios
from grader.load.phase import measure, prepared, run_scenario
from grader.load.stats import TOTAL, ratio
from grader.probes import ProbeTarget
from grader.runner.submission import private_copy

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"
APPS = {
    "floor-constant": HERE / "floors" / "constant",
    "floor-asyncpg": HERE / "floors" / "asyncpg_read",
    "solution": ROOT / "solution",
    "exercise": ROOT / "exercise",
}
# Which apps run which scenario; the floors serve only the product read.
PLAN = {
    "product-read": ("floor-constant", "floor-asyncpg", "solution", "exercise"),
    "checkout": ("solution", "exercise"),
    "product-read-paced": ("floor-asyncpg",),
}
WRK_WARMUP_S = 2
WRK_SECONDS = 8
GRADE_TIMEOUT_S = 1200
T = TypeVar("T")


def _rps(figures: dict[str, Any]) -> float:
    return float(figures["throughput_rps"] or 0)


def _figures(result: dict[str, Any]) -> dict[str, Any]:
    figures: dict[str, Any] = result["figures"]["endpoints"][TOTAL]
    return {**figures, "valid": result["figures"]["valid"], "invalid_reasons": result["figures"]["invalid_reasons"]}


def _median_by(items: Sequence[T], key: Callable[[T], float]) -> T:
    """The middle item by `key` (the upper one of two): a whole run kept, not a blend of runs."""
    return sorted(items, key=key)[len(items) // 2]


def run_scenarios(targets: dict[str, ProbeTarget], options: LoadOptions, rounds: int) -> dict[str, dict[str, Any]]:
    """Every planned (scenario, app) `rounds` times, interleaved; each keeps its median-throughput run.

    Interleaving spreads the machine's slow moments over all apps, and the median drops the outliers.
    """
    scenarios = {s.name: s for s in load_scenarios(SCENARIOS)}
    measured: dict[str, dict[str, Any]] = {}
    for name, apps in PLAN.items():
        runs: dict[str, list[dict[str, Any]]] = {app: [] for app in apps}
        for number in range(1, rounds + 1):
            for app in apps:
                figures = _figures(run_scenario(targets[app], scenarios[name], options, print, app))
                runs[app].append(figures)
                print(f"  {name:<20} {app:<16} round {number}/{rounds} {figures['throughput_rps'] or 0:9.1f} req/s  "
                      f"p50 {figures['p50_ms']:8.2f}  p99 {figures['p99_ms']:8.2f} ms", flush=True)  # fmt: skip
        measured[name] = {}
        for app, results in runs.items():
            median: dict[str, Any] = _median_by(results, _rps)
            chosen = dict(median)
            chosen["rounds_rps"] = [f["throughput_rps"] for f in results]
            chosen["rounds_p99_ms"] = [f["p99_ms"] for f in results]
            measured[name][app] = chosen
    return measured


def against_wrk(target: ProbeTarget, options: LoadOptions, rounds: int) -> dict[str, Any]:
    """The solution's product read measured by the grader and by wrk, alternating on one deployment.

    Each tool runs `rounds` times in turn and keeps its median; alternating on the same app cancels the
    app's own drift, which would otherwise show up as a disagreement between the tools.
    """
    wrk = _wrk.ensure_wrk(print)
    if wrk is None:
        return {"available": False, "note": "wrk is not installed (and could not be: not root or no apt-get)"}
    scenario = next(s for s in load_scenarios(SCENARIOS) if s.name == "product-read")
    users = scenario.peak_users
    ours: list[dict[str, Any]] = []
    theirs: list[_wrk.WrkResult] = []
    with prepared(target, scenario) as deployment:
        _, generator_cpus = _cpus.plan()
        url = deployment.url
        for _ in range(rounds):
            ours.append(_figures(measure(deployment, scenario, options, print, "solution (vs wrk)")))
            _wrk.run_wrk(wrk, url, connections=users, seconds=WRK_WARMUP_S, cpus=generator_cpus)  # its warm-up
            theirs.append(_wrk.run_wrk(wrk, url, connections=users, seconds=WRK_SECONDS, cpus=generator_cpus))
    grader = _median_by(ours, _rps)
    tool = _median_by(theirs, lambda result: result.requests_per_s)
    return {
        "available": True,
        "connections": users,
        "rounds": rounds,
        "grader": {k: grader[k] for k in ("throughput_rps", "p50_ms", "p90_ms", "p99_ms", "samples")},
        "wrk": vars(tool),
        "rounds_rps": {"grader": [f["throughput_rps"] for f in ours], "wrk": [r.requests_per_s for r in theirs]},
        "grader_over_wrk_rps": ratio(grader["throughput_rps"], tool.requests_per_s),
        "grader_over_wrk_p50": ratio(grader["p50_ms"], tool.p50_ms),
    }


def time_grade(extra: list[str]) -> dict[str, Any]:
    """Wall time of `python -m grader grade exercise` (+ `extra`), and its phases from report.json."""
    with tempfile.TemporaryDirectory(prefix="kit-bench-grade-") as work:
        out = Path(work) / "report"
        command = [sys.executable, "-m", "grader", "grade", "exercise", "--seed", "1", "--out", str(out), *extra]
        started = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=GRADE_TIMEOUT_S, check=False)
        wall = round(time.monotonic() - started, 1)
        if done.returncode != 0 or not (out / "report.json").exists():
            return {"wall_s": wall, "error": (done.stderr or done.stdout).strip()[-400:]}
        report = json.loads((out / "report.json").read_text())
    phases: dict[str, float] = {}
    for phase in report["phases"]:
        key = "probes" if phase["name"].startswith("probe ") else phase["name"]
        phases[key] = round(phases.get(key, 0.0) + phase["seconds"], 1)
    reference = report.get("load", {}).get("reference", {}).get("source")
    return {"command": " ".join(["grade", "exercise", *extra]), "wall_s": wall, "phases": phases,
            "reference": reference}  # fmt: skip


def targets(measured: dict[str, dict[str, Any]], faults_ms: float) -> list[dict[str, Any]]:
    read, checkout = measured["product-read"], measured["checkout"]
    floor_p95 = measured["product-read-paced"]["floor-asyncpg"]["p95_ms"]
    allowed = 1.5 * (faults_ms + floor_p95)
    return [
        {"target": "solution >= 0.8 x the raw-asyncpg floor's throughput (product read)",
         "value": ratio(read["solution"]["throughput_rps"], read["floor-asyncpg"]["throughput_rps"]), "goal": 0.8,
         "direction": "at least"},
        {"target": "solution >= 10 x the exercise's throughput (product read, 2 ms DB)",
         "value": ratio(read["solution"]["throughput_rps"], read["exercise"]["throughput_rps"]), "goal": 10,
         "direction": "at least"},
        {"target": "solution's p99 <= 1/10 of the exercise's (product read, 2 ms DB)",
         "value": ratio(read["solution"]["p99_ms"], read["exercise"]["p99_ms"]), "goal": 0.1,
         "direction": "at most"},
        {"target": f"solution's checkout p95 <= 1.5 x (payments {faults_ms:g} ms + DB floor p95 {floor_p95:.2f} ms)"
                   f" = {allowed:.1f} ms",
         "value": checkout["solution"]["p95_ms"], "goal": round(allowed, 2), "direction": "at most"},
    ]  # fmt: skip


def _met(target: dict[str, Any]) -> bool:
    value, goal = target["value"], target["goal"]
    return value is not None and (value >= goal if target["direction"] == "at least" else value <= goal)


def table(measured: dict[str, dict[str, Any]]) -> str:
    floors = measured["product-read"]
    lines = [f"{'scenario':<20} {'app':<16} {'req/s':>9} {'p50':>8} {'p95':>8} {'p99':>8}  "
             f"{'x ceiling':>9} {'x asyncpg':>9}  valid"]  # fmt: skip
    for scenario, apps in measured.items():
        for app, f in apps.items():
            ceiling = ratio(f["throughput_rps"], floors["floor-constant"]["throughput_rps"])
            floor = ratio(f["throughput_rps"], floors["floor-asyncpg"]["throughput_rps"])
            shown = [f"{v:9.2f}" if v is not None else f"{'-':>9}" for v in (ceiling, floor)]
            lines.append(f"{scenario:<20} {app:<16} {f['throughput_rps'] or 0:9.1f} {f['p50_ms']:8.2f} "
                         f"{f['p95_ms']:8.2f} {f['p99_ms']:8.2f}  {shown[0]} {shown[1]}  "
                         f"{'yes' if f['valid'] else 'NO: ' + '; '.join(f['invalid_reasons'])}")  # fmt: skip
    lines.append("(latencies in ms; ratios are throughput over the floors' product read)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="where bench.json goes (default reports/bench-<time>)")
    parser.add_argument("--skip-grade", action="store_true", help="do not time full and --quick grades")
    parser.add_argument("--skip-wrk", action="store_true", help="do not compare with wrk")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per app and scenario (median kept)")
    args = parser.parse_args(argv)
    out: Path = args.out or ROOT / "reports" / f"bench-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    options = LoadOptions(seed=args.seed)
    started = time.monotonic()
    app_cpus, generator_cpus = _cpus.plan()
    print(f"bench: app on cores {app_cpus}, load generator on {generator_cpus}", flush=True)
    with infrastructure() as infra, contextlib.ExitStack() as stack:
        targets_by_app = {
            name: ProbeTarget(app_dir=stack.enter_context(private_copy(path)), infra=infra)
            for name, path in APPS.items()
        }
        measured = run_scenarios(targets_by_app, options, max(1, args.rounds))
        skipped = {"available": False, "note": "--skip-wrk"}
        wrk: dict[str, Any] = (
            skipped if args.skip_wrk else against_wrk(targets_by_app["solution"], options, max(1, args.rounds))
        )
    checkout_faults = next(s for s in load_scenarios(SCENARIOS) if s.name == "checkout").faults
    goals = targets(measured, checkout_faults.payments_latency_ms)
    grades: dict[str, dict[str, Any]] = {}
    if not args.skip_grade:
        print("  timing a full grade of the exercise, the reference solution run fresh ...", flush=True)
        grades["full_fresh_reference"] = time_grade(["--reference", "fresh"])
        print("  timing a full grade of the exercise, the reference's run reused from that one ...", flush=True)
        grades["full"] = time_grade([])
        print("  timing a --quick grade ...", flush=True)
        grades["quick"] = time_grade(["--quick"])
    read = measured["product-read"]
    bench: dict[str, Any] = {
        "solution_over_floor_rps": ratio(read["solution"]["throughput_rps"], read["floor-asyncpg"]["throughput_rps"]),
        "solution_over_exercise_rps": ratio(read["solution"]["throughput_rps"], read["exercise"]["throughput_rps"]),
        "exercise_over_solution_p99": ratio(read["exercise"]["p99_ms"], read["solution"]["p99_ms"]),
        "grade_wall_s": grades.get("full", {}).get("wall_s"),
        "grade_quick_wall_s": grades.get("quick", {}).get("wall_s"),
        "grade_fresh_reference_wall_s": grades.get("full_fresh_reference", {}).get("wall_s"),
        "grader_over_wrk_rps": wrk.get("grader_over_wrk_rps"),
        "grader_over_wrk_p50": wrk.get("grader_over_wrk_p50"),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "environment": describe(args.seed) | {"app_cpus": app_cpus, "generator_cpus": generator_cpus},
        "targets": [t | {"met": _met(t)} for t in goals],
        "measurements": measured,
        "wrk": wrk,
        "grades": grades,
        "bench_wall_s": round(time.monotonic() - started, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(bench, indent=2) + "\n")
    print()
    print(table(measured))
    print()
    for goal in bench["targets"]:
        print(f"  {'met   ' if goal['met'] else 'MISSED'} {goal['target']}: {goal['value']} ({goal['direction']} "
              f"{goal['goal']})")  # fmt: skip
    if wrk.get("available"):
        print(f"  grader/wrk: throughput {wrk['grader_over_wrk_rps']}, p50 {wrk['grader_over_wrk_p50']} "
              f"(agreement within 10%: {'yes' if _agrees(wrk) else 'NO'})")  # fmt: skip
    else:
        print(f"  wrk: {wrk.get('note')}")
    for name, grade in grades.items():
        print(f"  grade ({name}): {grade.get('wall_s')} s  {grade.get('phases', grade.get('error'))}")
    print(f"bench.json: {out / 'bench.json'}")
    missed = [g for g in bench["targets"] if not g["met"]]
    return 1 if args.check and missed else 0


def _agrees(wrk: dict[str, Any]) -> bool:
    return all(r is not None and 0.9 <= r <= 1.1 for r in (wrk["grader_over_wrk_rps"], wrk["grader_over_wrk_p50"]))


if __name__ == "__main__":
    raise SystemExit(main())
