"""The grade's load phase: every scenario against the submission, then against the reference solution
(fresh, or a cached run from the same machine and kit), and the ratios between the two."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.infra.stack import Infrastructure
from grader.load import _cpus, _hdr, calibration, integrity
from grader.load.engine import run_locust, start_progress_printer
from grader.load.scenario import SCENARIO_DIR, Scenario
from grader.load.stats import TOTAL, ratios, summarise
from grader.probes import ProbeTarget
from grader.runner.deploy import Deployment
from grader.runner.submission import private_copy

Say = Callable[[str], None]
STOP_GRACE_S = 1.0


@dataclass(frozen=True)
class LoadOptions:
    seed: int
    workers: int = 1
    remote_workers: int = 0  # started by hand on other machines (README)
    master_bind: str = "127.0.0.1"
    master_port: int = 0
    reference: str = "auto"  # auto (cached when valid, else fresh) | fresh | none
    scenario_dir: Path = SCENARIO_DIR
    scenarios: tuple[str, ...] = ()


@dataclass
class LoadResult:
    section: dict[str, Any]
    latency: dict[str, Any]
    runs: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def prepared(target: ProbeTarget, scenario: Scenario) -> Iterator[Deployment]:
    """A fresh deployment of `target` with the scenario's faults set.

    The system under test — the app, PostgreSQL, the proxy and the stub — runs on the app's cores and
    the load generator alone on the others, so the generator's own appetite never slows the server.
    """
    app_cpus, _ = _cpus.plan()
    everywhere = sorted(os.sched_getaffinity(0))
    shared = [target.infra.pg.pid, target.infra.stub.pid]
    with target.deploy() as deployment:
        deployment.proxy.configure(latency_ms=scenario.faults.db_latency_ms)
        deployment.stub.configure(**scenario.faults.stub_config())
        for pid in (deployment.app.pid, deployment.proxy.pid, *shared):
            _cpus.pin_tree(pid, app_cpus)
        try:
            yield deployment
        finally:
            # Requests the generator abandoned may still hold the app: no graceful shutdown to wait for.
            deployment.app.terminate(grace=STOP_GRACE_S)
            for pid in shared:
                _cpus.pin_tree(pid, everywhere if app_cpus else None)


def measure(deployment: Deployment, scenario: Scenario, options: LoadOptions, say: Say, label: str) -> dict[str, Any]:
    """Run `scenario` against a prepared deployment: figures and raw histograms."""
    app_cpus, generator_cpus = _cpus.plan()
    run = run_locust(
        scenario,
        deployment.url,
        seed=options.seed,
        workers=options.workers,
        cpus=generator_cpus,
        remote_workers=options.remote_workers,
        master_bind=options.master_bind,
        master_port=options.master_port,
        say=say,
        progress=start_progress_printer(say, f"{scenario.name} [{label}]", scenario.duration_s),
    )
    figures, raw = summarise(scenario, run)
    figures["generator"]["app_cpus"] = app_cpus
    return {"figures": figures, "histograms": raw}


def run_scenario(target: ProbeTarget, scenario: Scenario, options: LoadOptions, say: Say, label: str) -> dict[str, Any]:
    """One scenario against a fresh deployment of `target`, then its books checked (grader.load.integrity)."""
    with prepared(target, scenario) as deployment:
        before = integrity.snapshot(deployment)
        result = measure(deployment, scenario, options, say, label)
        deployment.app.terminate(grace=STOP_GRACE_S)  # nothing moves while the books are read
        result["figures"]["integrity"] = integrity.check(deployment, before)
        return result


def run_all(
    target: ProbeTarget, scenarios: list[Scenario], options: LoadOptions, say: Say, label: str
) -> dict[str, Any]:
    runs = {}
    for scenario in scenarios:
        runs[scenario.name] = run_scenario(target, scenario, options, say, label)
        total = runs[scenario.name]["figures"]["endpoints"][TOTAL]
        say(
            f"    {scenario.name + ' [' + label + ']':<40} {total['throughput_rps'] or 0:8.1f} req/s  "
            f"p50 {total['p50_ms'] or 0:8.1f} ms  p99 {total['p99_ms'] or 0:8.1f} ms  n={total['samples']}"
        )
    return runs


def reference_runs(
    infra: Infrastructure, scenarios: list[Scenario], options: LoadOptions, say: Say
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(the reference's runs or None, where they came from)."""
    if options.reference == "none":
        return None, {"source": "none", "note": "no reference run (--reference none): no ratios"}
    machine = calibration.fingerprint()
    kit = calibration.kit_version(scenarios, options.workers)
    provenance: dict[str, Any] = {"fingerprint": machine, "kit_version": kit}
    if options.reference == "auto" and (cached := calibration.load_cached(machine, kit)) is not None:
        say("    reference: reusing the cached run from " + cached["created_at"])
        provenance |= {"source": "cached", "created_at": cached["created_at"],
                       "note": "reused: same machine fingerprint and kit version"}  # fmt: skip
        return cached["runs"], provenance
    with private_copy(calibration.REFERENCE_APP) as app_dir:
        runs = run_all(ProbeTarget(app_dir=app_dir, infra=infra), scenarios, options, say, "reference")
    provenance["source"] = "fresh"
    if all(run["figures"]["valid"] for run in runs.values()):
        provenance["created_at"] = calibration.store(machine, kit, runs)["created_at"]
        provenance["note"] = "run in this grading session (and cached for this machine and kit)"
    else:
        provenance["note"] = "run in this grading session; not cached: some of its runs were invalid"
    return runs, provenance


def compare(scenario: Scenario, candidate: dict[str, Any], reference: dict[str, Any] | None) -> dict[str, Any]:
    """A scenario's entry in report.json's load section."""
    ours = candidate["figures"]
    entry: dict[str, Any] = {
        "name": scenario.name,
        "title": scenario.title,
        "description": scenario.description,
        "model": scenario.model,
        "users": scenario.peak_users if scenario.model == "closed" else None,
        "stages": [{"at_s": s.at_s, "users": s.users} for s in scenario.stages],
        "rate": scenario.rate if scenario.model == "open" else None,
        "duration_s": scenario.duration_s,
        "warmup_s": scenario.warmup_s,
        "faults": scenario.faults.model_dump(),
        "valid": ours["valid"],
        "invalid_reasons": ours["invalid_reasons"],
        "candidate": ours,
        "reference": None,
        "ratios": None,
        # the books after the run (grader.load.integrity): breaches are reported beside the latency
        "integrity_breaches": list((ours.get("integrity") or {}).get("breaches", [])),
    }
    if reference is not None:
        theirs = reference["figures"]
        entry["reference"] = theirs
        entry["reference_valid"] = theirs["valid"]
        entry["ratios"] = {
            name: ratios(figures, theirs["endpoints"][name])
            for name, figures in ours["endpoints"].items()
            if name in theirs["endpoints"]
        }
        if not theirs["valid"]:
            theirs_invalid = [f"reference: {reason}" for reason in theirs["invalid_reasons"]]
            entry["invalid_reasons"] = [*entry["invalid_reasons"], *theirs_invalid]
            entry["valid"] = False
    return entry


def indices(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Geometric means over the valid scenarios of the whole-scenario ratios: one number per figure."""
    shown: dict[str, Any] = {}
    for key in ("throughput", "p50", "p95", "p99"):
        figures = [e["ratios"][TOTAL][key] for e in entries if e["valid"] and e["ratios"]]
        values = [value for value in figures if value is not None]
        if not values:
            shown[key] = None
        elif min(values) <= 0:  # nothing answered in some scenario: that sinks the index, it is not skipped
            shown[key] = 0.0
        else:
            shown[key] = round(math.exp(sum(map(math.log, values)) / len(values)), 3)
    shown["scenarios"] = sum(1 for e in entries if e["valid"] and e["ratios"])
    return shown


def run_load(
    target: ProbeTarget, infra: Infrastructure, options: LoadOptions, scenarios: list[Scenario], say: Say
) -> LoadResult:
    say(f"    {len(scenarios)} scenarios: {', '.join(s.name for s in scenarios)}")
    candidate = run_all(target, scenarios, options, say, "candidate")
    reference, provenance = reference_runs(infra, scenarios, options, say)
    entries = [compare(s, candidate[s.name], reference.get(s.name) if reference else None) for s in scenarios]
    app_cpus, generator_cpus = _cpus.plan()
    section = {
        "status": "ran",
        "scenario_set": sorted(s.name for s in scenarios),
        "workers": options.workers,
        "pinning": {"app": app_cpus, "generator": generator_cpus}
        if app_cpus
        else "not pinned: fewer than 2 usable cores",
        "reference": provenance,
        "index": indices(entries),
        "scenarios": entries,
    }
    latency = {
        "schema_version": 1,
        "unit": "microseconds",
        "histogram": {"lowest": _hdr.LOWEST_US, "highest": _hdr.HIGHEST_US, "significant_digits": _hdr.DIGITS,
                      "encoding": "HdrHistogram V2, compressed, base64 (hdrh.histogram.HdrHistogram.decode)"},
        "note": "warm-up excluded; one histogram per endpoint and one for all requests",
        "scenarios": {
            s.name: {
                "candidate": candidate[s.name]["histograms"],
                "reference": reference[s.name]["histograms"] if reference and s.name in reference else None,
            }
            for s in scenarios
        },
    }  # fmt: skip
    return LoadResult(section=section, latency=latency)
