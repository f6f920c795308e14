"""Run the contract cases in order against one deployment; every case gets an outcome and a message."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from grader.contract._context import ContractContext, ContractFailure, check_body
from grader.contract.cases import CASES, Case
from grader.runner.deploy import Deployment

CASE_TIMEOUT = 30.0


@dataclass(frozen=True)
class CaseResult:
    name: str
    outcome: str  # "passed" | "failed" | "error"
    message: str
    seconds: float
    # What a client suffers when this case fails: "critical" (checkout broken, money or stock wrong),
    # "major" (a documented behaviour wrong), "minor" (a shape detail). Set per case in cases.py.
    severity: str = "major"
    # The failure shows the service reporting work it did not do (stock it does not have, a charge that
    # does not exist). Passed: whether the case checks that; failed: whether this failure is one (a wrong
    # status or body shape met before the check is not).
    integrity: bool = False


@dataclass
class ContractResult:
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(case.outcome == "passed" for case in self.cases)

    @property
    def failed(self) -> int:
        return len(self.cases) - self.passed

    def failures(self) -> list[CaseResult]:
        return [case for case in self.cases if case.outcome != "passed"]


async def run_contract(
    deployment: Deployment,
    *,
    seed: int,
    cases: Sequence[Case] = CASES,
    state: dict[str, Any] | None = None,
) -> ContractResult:
    """Run `cases` (all of them by default); a failure or a timeout in one case never stops the others.

    `state` carries what earlier runs on the same deployment used (products, currencies), for tests that
    run the cases for many seeds on one deployment.
    """
    result = ContractResult()
    async with httpx.AsyncClient(
        base_url=deployment.url, timeout=httpx.Timeout(20.0), event_hooks={"response": [check_body]}
    ) as client:
        ctx = ContractContext(
            client=client, deployment=deployment, rng=random.Random(seed), state={} if state is None else state
        )
        for case in cases:
            started = time.monotonic()
            integrity = case.integrity
            try:
                async with asyncio.timeout(CASE_TIMEOUT):
                    await case.run(ctx)
                outcome, message = "passed", ""
            except ContractFailure as exc:
                outcome, message = "failed", str(exc)
                integrity = case.integrity if exc.integrity is None else exc.integrity
            except TimeoutError:
                outcome, message, integrity = "failed", f"no answer within {CASE_TIMEOUT:.0f} s", False
            except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
                # A transport error, a body that is not the contract's JSON (`null`, a list where an object
                # belongs): the case failed, say how.
                outcome, message, integrity = "failed", f"{type(exc).__name__}: {exc}", False
            result.cases.append(
                CaseResult(case.name, outcome, message, time.monotonic() - started, case.severity, integrity)
            )
    return result
