"""What every probe shares: the target it deploys, the result it returns, the verdict rule."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.catalogue import load_catalogue
from grader.evidence.tampering import Attempt
from grader.guide._logs import tracebacks
from grader.infra.stack import Infrastructure
from grader.runner.app_process import AppProcess
from grader.runner.deploy import Deployment, deploy

Verdict = Literal["fixed", "present", "inconclusive"]


class Inconclusive(Exception):
    """The probe could not measure what it needs (e.g. orders fail for another reason)."""


@dataclass
class ProbeTarget:
    """A submission's private copy and the infrastructure to deploy it on.

    It remembers the apps it is running (so a phase deadline can stop them) and why any of them ended
    on its own (a crash, the memory limit).
    """

    app_dir: Path
    infra: Infrastructure
    running: list[AppProcess] = field(default_factory=list)
    exits: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)  # gathered from every deployment
    # the app's own tracebacks, per deployment that logged any: the reviewer's guide shows why things failed
    app_errors: list[list[str]] = field(default_factory=list)

    @contextlib.contextmanager
    def deploy(self, *, lifespan: str = "on", asyncio_debug: bool = False) -> Iterator[Deployment]:
        # Attempts go straight into ours: also those seen at teardown, or when the app never started.
        with deploy(
            self.infra, self.app_dir, lifespan=lifespan, asyncio_debug=asyncio_debug, attempts=self.attempts
        ) as deployment:
            self.running.append(deployment.app)
            try:
                yield deployment
            finally:
                self.running.remove(deployment.app)
                for block in tracebacks(deployment.app.log_text()):
                    self.app_errors.append(block)
                if (reason := deployment.app.unexpected_exit()) is not None:
                    self.exits.append(f"{reason}; log tail:\n{deployment.app.log_tail(15)}")

    def stop_all(self, reason: str) -> None:
        for app in list(self.running):
            app.kill(reason)


@dataclass
class ProbeResult:
    bug_id: str
    verdict: Verdict
    metric: str
    value: float | None
    threshold: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    # Work the service reported but did not do (a 201 with no charge at the provider, stale stock): each a
    # one-line finding: an integrity red flag in the scorecard, and `present` for the entries it decides
    # (grader/probes/_borderline.py: DECIDED_BY_INTEGRITY).
    integrity: list[str] = field(default_factory=list)


def verdict(present: bool) -> Verdict:
    return "present" if present else "fixed"


def judge(
    bug_id: str, value: float, evidence: dict[str, Any], *, what: str, problems: Sequence[str] = ()
) -> ProbeResult:
    """The verdict for a measured `value` against the catalogue's threshold for `bug_id`.

    `problems` are further symptoms the probe saw (a lost notification, a double charge): any makes the
    bug present whatever the number says.
    """
    bug = load_catalogue().bug(bug_id)
    crossed = bug.crosses(value)
    unit = f" {bug.unit}" if bug.unit else ""
    relation = {("above", True): ">", ("above", False): "≤", ("below", True): "<", ("below", False): "≥"}[
        (bug.present_when, crossed)
    ]
    message = f"{what} = {_number(value)}{unit} ({relation} {bug.threshold:g}{unit})"
    message += "".join(f"; {problem}" for problem in problems)
    return ProbeResult(
        bug_id, verdict(crossed or bool(problems)), bug.metric, round(value, 3), bug.threshold_text, message, evidence
    )


def _number(value: float) -> str:
    """Readable at a glance: 1730, 46.2, 0.025."""
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.3g}"


def inconclusive(bug_id: str, reason: str, evidence: dict[str, Any] | None = None) -> ProbeResult:
    bug = load_catalogue().bug(bug_id)
    return ProbeResult(bug_id, "inconclusive", bug.metric, None, bug.threshold_text, reason, evidence or {})
