"""One grade, as its pipeline: submission → infrastructure → contract → probes → load → report.

Each phase has a deadline and records its status, duration and error; a phase that fails never stops
the ones after it that can still run, and the report is written whatever happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from grader.catalogue import load_catalogue
from grader.contract import ContractResult, run_contract
from grader.environment import ROOT, describe
from grader.evidence import runtime, static
from grader.evidence.tampering import Attempt, merged
from grader.feedback import render_html as feedback_html
from grader.feedback import render_markdown as feedback_markdown
from grader.guide import build_guide, guide_markdown, history, read_notes
from grader.infra.stack import Infrastructure, infrastructure
from grader.load import LoadOptions, LoadResult, load_scenarios, run_load
from grader.probes import ProbeResult, ProbeTarget, band_of, measured, probe_for, runs_in_quick
from grader.report import gradescope, html, junit, markdown
from grader.report.model import SCHEMA_VERSION, Guide, Report, dump_json
from grader.report.score import assess
from grader.runner.app_process import AppStartError
from grader.runner.sources import Source, resolve
from grader.runner.submission import content_hash, private_copy
from grader.similarity import CODE_DIR, read_python

CONTRACT_TIMEOUT = 300.0
PROBE_TIMEOUT = 120.0  # per reading of a probe
REMEASURE_BUDGET = 150.0  # a probe's first reading and its borderline re-measurements, all together
LOAD_ALLOWANCE_S = 60.0  # per scenario and app, beyond its duration: deploy, Locust's start and stop
STOP_WAIT = 30.0  # after a deadline: how long the phase may take to notice its app is gone
T = TypeVar("T")


class PhaseTimeout(Exception):
    """A phase did not finish before its deadline."""


@dataclass
class Phase:
    name: str
    status: str = "ok"  # ok | error | skipped
    seconds: float = 0.0
    error: str | None = None


@dataclass
class Options:
    seed: int
    out: Path | None = None
    quick: bool = False
    skip_load: bool = False
    only: tuple[str, ...] = ()
    load: LoadOptions | None = None  # None: the default scenarios, one generator process, reference auto

    @property
    def load_options(self) -> LoadOptions:
        return self.load or LoadOptions(seed=self.seed)


@dataclass
class Grade:
    """What a grade builds up; `report()` turns it into report.json's shape."""

    options: Options
    source: Source | None = None
    content_hash: str | None = None
    phases: list[Phase] = field(default_factory=list)
    contract: ContractResult | None = None
    probes: dict[str, ProbeResult] = field(default_factory=dict)
    static_findings: list[static.Finding] = field(default_factory=list)
    foreign_imports: list[static.Finding] = field(default_factory=list)
    debug: dict[str, object] = field(default_factory=dict)
    app_error: str | None = None
    load: LoadResult | None = None
    load_skipped: str | None = None
    error: str | None = None
    attempts: list[Attempt] = field(default_factory=list)  # what the app tried that is not its own
    database_sandbox: str | None = None  # how far the app's database role is confined (PostgresServer)
    # for the reviewer's guide: the submission's code and notes as graded, its git history, and what the
    # app wrote while each contract case ran
    code: dict[str, str] = field(default_factory=dict)
    notes: tuple[str | None, bool] = (None, False)
    history: dict[str, Any] | None = None
    history_why: str = ""
    case_logs: dict[str, str] = field(default_factory=dict)
    probe_logs: dict[str, list[str]] = field(default_factory=dict)  # a traceback the app logged, per probe
    started: float = field(default_factory=time.monotonic)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


Progress = Callable[[str], None]


def submission_name(given: str) -> str:
    stem = re.sub(r"(\.tar\.gz|\.tgz|\.tar|\.git)$", "", given.rstrip("/").rsplit("/", 1)[-1] or "submission")
    return re.sub(r"[^\w.-]+", "-", stem) or "submission"


def default_out(given: str) -> Path:
    return ROOT / "reports" / f"{submission_name(given)}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"


@contextlib.contextmanager
def _phase(grade: Grade, name: str, say: Progress) -> Iterator[Phase]:
    phase = Phase(name)
    grade.phases.append(phase)
    started = time.monotonic()
    try:
        yield phase
    except Exception as exc:  # a phase's failure is recorded; the grade goes on
        phase.status, phase.error = "error", f"{type(exc).__name__}: {exc}"
    finally:
        phase.seconds = round(time.monotonic() - started, 2)
        say(
            f"  {phase.name:<36} {phase.status:<8} {phase.seconds:6.1f} s"
            + (f"  {phase.error.splitlines()[0]}" if phase.error else "")
        )


def _with_deadline(target: ProbeTarget, seconds: float, work: Callable[[], T]) -> T:
    """Run `work`; at the deadline stop the apps it runs, so whatever it waits on fails fast."""
    outcome: dict[str, Any] = {}
    # An Event, not Thread.join: a join that Ctrl-C interrupts marks a running thread as ended (CPython 3.11)
    ended = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # carried to the caller's thread
            outcome["error"] = exc
        finally:
            ended.set()

    threading.Thread(target=run, name="phase", daemon=True).start()
    try:
        ended.wait(seconds)
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): the phase's apps go first, then everything else
        target.stop_all("stopped: the grade was interrupted")
        ended.wait(STOP_WAIT)
        raise
    if not ended.is_set():
        target.stop_all(f"killed: the phase took longer than {seconds:.0f} s")
        ended.wait(STOP_WAIT)
        raise PhaseTimeout(f"no result within {seconds:.0f} s; the app was stopped")
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["value"]
    return result


def _contract(grade: Grade, target: ProbeTarget) -> ContractResult:
    # asyncio's debug mode reports slow callbacks and unawaited coroutines: supporting evidence only.
    with target.deploy(asyncio_debug=True) as deployment:
        started = time.monotonic()
        result = asyncio.run(run_contract(deployment, seed=grade.options.seed))
    grade.debug = runtime.debug_findings(deployment.app.log_text())  # read once the app has stopped
    for case in result.cases:  # cases run one after another: each one's window follows the last
        ended = started + case.seconds
        if case.outcome != "passed":
            grade.case_logs[case.name] = deployment.app.log.between(started - 0.05, ended + 0.3)
        started = ended
    return result


def _probe(grade: Grade, target: ProbeTarget, bug_id: str) -> ProbeResult:
    """One probe, each reading under PROBE_TIMEOUT; a borderline value is re-measured (`grader.probes._borderline`)
    while the next reading, as long as the longest so far, fits in REMEASURE_BUDGET."""
    exits_before, errors_before = len(target.exits), len(target.app_errors)
    probe = probe_for(bug_id)
    started = time.monotonic()
    result = measured(
        bug_id,
        lambda: _with_deadline(target, PROBE_TIMEOUT, functools.partial(probe, target)),
        relative=band_of(bug_id),
        time_left=lambda: REMEASURE_BUDGET - (time.monotonic() - started),
    )
    crashed = target.exits[exits_before:]
    if crashed and result.verdict == "fixed":
        result.verdict = "inconclusive"
        result.message = f"{result.message}; but the app ended during the probe: {crashed[0].splitlines()[0]}"
    if crashed:
        result.evidence["app_ended"] = crashed
    if result.verdict != "fixed" and (logged := target.app_errors[errors_before:]):
        grade.probe_logs[bug_id] = logged[0]  # the app's own words, for the reviewer's guide
    return result


def run_grade(given: str, options: Options, say: Progress = print) -> tuple[dict[str, Any], Path]:
    """Grade `given`; write the reports; return report.json's content (as JSON data) and the output directory."""
    grade = Grade(options)
    out = options.out or default_out(given)
    catalogue = load_catalogue()
    bugs = [
        bug
        for bug in catalogue.bugs
        if (not options.only or bug.id in options.only) and (not options.quick or runs_in_quick(bug.id))
    ]
    with contextlib.ExitStack() as stack:
        with _phase(grade, "submission", say):
            grade.source = stack.enter_context(resolve(given))
            app_dir = stack.enter_context(private_copy(grade.source.root))
            grade.content_hash = content_hash(app_dir)
            grade.static_findings = static.ruff_findings(app_dir)
            grade.foreign_imports = static.foreign_imports(app_dir)
            _read_for_guide(grade, grade.source, app_dir)
        if grade.phases[-1].status == "error":
            raise SubmissionUnusable((grade.phases[-1].error or "").split(": ", 1)[-1])
        infra: Infrastructure | None = None
        with _phase(grade, "infrastructure", say) as phase:
            infra = stack.enter_context(infrastructure(seed=options.seed))
            grade.database_sandbox = infra.pg.confinement()
            if infra.pg.no_app_roles:  # said loudly: the app holds the reviewer's own database role
                phase.error = f"weaker sandbox: {grade.database_sandbox}"
        if infra is None:
            grade.error = f"infrastructure failed: {grade.phases[-1].error}"
        else:
            target = ProbeTarget(app_dir=app_dir, infra=infra)
            with _phase(grade, "contract", say) as phase:
                try:
                    grade.contract = _with_deadline(target, CONTRACT_TIMEOUT, lambda: _contract(grade, target))
                except AppStartError as exc:
                    grade.app_error = _start_error(str(exc), grade.foreign_imports)
                    raise
                if grade.contract.failed:
                    phase.error = f"{grade.contract.failed} contract cases failed"
                if target.exits:  # a crash or the memory limit: the failed cases alone would not say why
                    phase.error = f"{phase.error or 'the contract ran'}; the app ended: {target.exits[0]}"
            for bug in bugs:
                with _phase(grade, f"probe {bug.id}", say) as phase:
                    if grade.app_error:
                        phase.status = "skipped"
                        grade.probes[bug.id] = _not_run(bug.id, grade.app_error)
                        continue
                    try:
                        grade.probes[bug.id] = _probe(grade, target, bug.id)
                    except Exception as exc:
                        grade.probes[bug.id] = _not_run(bug.id, f"the probe failed: {exc}")
                        raise
            with _phase(grade, "load", say) as phase:
                _load(grade, phase, target, infra, say)
            grade.attempts = merged(target.attempts)
    report = _with_guide(grade, build_report(grade, given))
    write_reports(report, out, grade.load.latency if grade.load else None, code=grade.code)
    return report.model_dump(mode="json"), out


def _read_for_guide(grade: Grade, source: Source, app_dir: Path) -> None:
    grade.code, grade.notes = read_python(app_dir), read_notes(app_dir)
    grade.history = history(source.root) if source.kind == "git" else None
    grade.history_why = "" if source.kind == "git" else f"a {source.kind}, not a git repository"
    if source.kind == "git" and grade.history is None:
        grade.history_why = "git could not read the repository's history"


def _with_guide(grade: Grade, report: Report) -> Report:
    """The report with the reviewer's guide, once the submission could be read."""
    if grade.phases and grade.phases[0].status == "ok":
        report.guide = Guide.model_validate(_guide(grade, report.model_dump(mode="json")))
    return report


def _guide(grade: Grade, report: dict[str, Any]) -> dict[str, Any]:
    return build_guide(
        report,
        code=grade.code,
        exercise=read_python(ROOT / "exercise"),
        notes=grade.notes[0],
        notes_cut=grade.notes[1],
        history=grade.history,
        history_why=grade.history_why,
        case_logs=grade.case_logs,
        probe_logs=grade.probe_logs,
    )


def _load(grade: Grade, phase: Phase, target: ProbeTarget, infra: Infrastructure, say: Progress) -> None:
    options = grade.options
    if options.skip_load or options.quick:
        grade.load_skipped = "--quick" if options.quick else "--skip-load"
    elif grade.app_error:
        grade.load_skipped = grade.app_error
    if grade.load_skipped:
        phase.status, phase.error = "skipped", grade.load_skipped
        return
    load = options.load_options
    scenarios = load_scenarios(load.scenario_dir, load.scenarios)
    apps = 1 if load.reference == "none" else 2
    deadline = apps * sum(s.duration_s + LOAD_ALLOWANCE_S for s in scenarios)
    grade.load = _with_deadline(target, deadline, lambda: run_load(target, infra, load, scenarios, say))
    if invalid := [s["name"] for s in grade.load.section["scenarios"] if not s["valid"]]:
        phase.error = f"invalid runs (not to be trusted): {', '.join(invalid)}"


class SubmissionUnusable(ValueError):
    """No grade can be produced for what was given (one-line reason)."""


def _start_error(message: str, foreign: list[static.Finding]) -> str:
    first = message.splitlines()[0]
    missing = re.search(r"No module named '([\w.]+)'", message)
    if missing and any(repr(missing.group(1).split(".")[0]) in f.message for f in foreign):
        return f"the app does not start: it imports {missing.group(1)!r}, which is not in the allowed packages"
    return f"the app does not start: {first}"


def _not_run(bug_id: str, reason: str) -> ProbeResult:
    bug = load_catalogue().bug(bug_id)
    return ProbeResult(bug_id, "inconclusive", bug.metric, None, bug.threshold_text, reason, {})


def _finite(value: Any) -> Any:
    """Evidence as JSON can hold it: a NaN or infinity a probe measured (a percentile of no samples) is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def build_report(grade: Grade, given: str) -> Report:
    catalogue = load_catalogue()
    not_probed_because = "--only" if grade.options.only else "--quick"
    contract = grade.contract
    bugs = []
    for bug in catalogue.bugs:
        result = grade.probes.get(bug.id) or _not_run(bug.id, f"not probed ({not_probed_because})")
        evidence = _finite(dict(result.evidence))
        supporting = static.supporting(grade.static_findings, bug.id)
        debug = runtime.supporting(grade.debug, bug.id)
        if supporting or debug:
            evidence["supporting"] = {"ruff": supporting, **debug}
        bugs.append(
            {
                "id": bug.id,
                "title": bug.title,
                "category": bug.category,
                "red_flag": bug.red_flag,
                "verdict": result.verdict,
                "metric": result.metric,
                "value": _finite(result.value),
                "threshold": result.threshold,
                "message": result.message,
                "evidence": evidence,
                "integrity": list(result.integrity),
            }
        )
    shape: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "status": "error" if grade.error else "graded",
        "error": grade.error,
        "submission": {
            "name": submission_name(given),
            "source": given,
            "kind": grade.source.kind if grade.source else None,
            "content_hash": grade.content_hash,
            "foreign_imports": [f.as_dict() for f in grade.foreign_imports],
            "static_findings": [f.as_dict() for f in grade.static_findings],
        },
        "environment": _environment(grade),
        "started_at": grade.started_at,
        "seconds": round(time.monotonic() - grade.started, 1),
        "options": {
            "quick": grade.options.quick,
            "skip_load": grade.options.skip_load,
            "only": list(grade.options.only),
            "workers": grade.options.load_options.workers,
            "reference": grade.options.load_options.reference,
            "scenarios": list(grade.options.load_options.scenarios),
        },
        "contract": None
        if contract is None
        else {
            "passed": contract.passed,
            "failed": contract.failed,
            "cases": [asdict(case) for case in contract.cases],
        },
        "bugs": bugs,
        "score": None,  # filled in below, from the report's own facts (so `make compare` can redo it)
        "red_flags": [],
        "tampering": [attempt.as_dict() for attempt in grade.attempts],
        "load": _finite(grade.load.section)
        if grade.load
        else {"status": "skipped", "reason": grade.load_skipped or "the load phase did not run"},
        "asyncio_debug": _finite(grade.debug),
        "phases": [asdict(phase) for phase in grade.phases],
    }
    shape["score"], shape["red_flags"] = assess(shape, catalogue, grade.app_error)
    return Report.model_validate(shape)  # a key the model does not declare fails here, in the tests first


def _environment(grade: Grade) -> dict[str, Any]:
    environment = describe(grade.options.seed)
    if grade.database_sandbox:
        environment["sandbox"] = f"{environment['sandbox']}; {grade.database_sandbox}"
    return environment


def write_reports(
    report: Report, out: Path, latency: dict[str, Any] | None = None, *, code: dict[str, str] | None = None
) -> None:
    text = dump_json(Report.model_validate(report.model_dump()))  # checked again: a model can be changed in place
    out.mkdir(parents=True, exist_ok=True)
    if code:  # the Python files as graded, for `make compare`'s similarity across a cohort
        kept = out / CODE_DIR
        for relative, source in code.items():
            path = (kept / relative).resolve()
            if path.is_relative_to(kept.resolve()):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(source)
    if report.guide:
        (out / "guide.md").write_text(guide_markdown(report.guide.model_dump(), report.submission.name))
    if report.status == "graded":  # for the candidate: plain data, in their brief's words
        facts = report.model_dump(mode="json")
        (out / "feedback.md").write_text(feedback_markdown(facts))
        (out / "feedback.html").write_text(feedback_html(facts), encoding="utf-8")
    if latency is not None:
        (out / "latency.json").write_text(json.dumps(latency, allow_nan=False) + "\n")
    (out / "report.json").write_text(text)
    (out / "report.md").write_text(markdown.render(report))
    (out / "report.html").write_text(html.render(report), encoding="utf-8")
    (out / "junit.xml").write_text(junit.render(report))
    (out / "results.json").write_text(json.dumps(gradescope.render(report), indent=2) + "\n")
