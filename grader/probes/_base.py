"""What every probe shares: the target it deploys, the result it returns, the verdict rule."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.infra.stack import Infrastructure
from grader.runner.deploy import Deployment, deploy

Verdict = Literal["fixed", "present", "inconclusive"]


class Inconclusive(Exception):
    """The probe could not measure what it needs (e.g. orders fail for another reason)."""


@dataclass(frozen=True)
class ProbeTarget:
    """A submission's private copy and the infrastructure to deploy it on."""

    app_dir: Path
    infra: Infrastructure

    @contextlib.contextmanager
    def deploy(self, *, lifespan: str = "on") -> Iterator[Deployment]:
        with deploy(self.infra, self.app_dir, lifespan=lifespan) as deployment:
            yield deployment


@dataclass
class ProbeResult:
    bug_id: str
    verdict: Verdict
    metric: str
    value: float | None
    threshold: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


def verdict(present: bool) -> Verdict:
    return "present" if present else "fixed"


def above(
    bug_id: str, metric: str, value: float, limit: float, evidence: dict[str, Any], *, unit: str = "", what: str = ""
) -> ProbeResult:
    """`present` when `value` exceeds `limit`, else `fixed`."""
    verdict: Verdict = "present" if value > limit else "fixed"
    shown = f"{value:.3g}{unit}"
    relation = ">" if value > limit else "≤"
    return ProbeResult(
        bug_id,
        verdict,
        metric,
        round(value, 3),
        f"present when > {limit:g}{unit}",
        f"{what or metric} = {shown} ({relation} {limit:g}{unit})",
        evidence,
    )


def inconclusive(bug_id: str, metric: str, reason: str, evidence: dict[str, Any] | None = None) -> ProbeResult:
    return ProbeResult(bug_id, "inconclusive", metric, None, "", reason, evidence or {})
