"""Run the contract cases in order against one deployment; every case gets an outcome and a message."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import httpx

from grader.contract._context import ContractContext, ContractFailure
from grader.contract.cases import CASES
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
    integrity: bool = False  # the failure shows the service reporting work it did not do


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


async def run_contract(deployment: Deployment, *, seed: int) -> ContractResult:
    """Run every case; a failure or a timeout in one case never stops the others."""
    result = ContractResult()
    async with httpx.AsyncClient(base_url=deployment.url, timeout=httpx.Timeout(20.0)) as client:
        ctx = ContractContext(client=client, deployment=deployment, rng=random.Random(seed))
        for case in CASES:
            started = time.monotonic()
            try:
                async with asyncio.timeout(CASE_TIMEOUT):
                    await case(ctx)
                outcome, message = "passed", ""
            except ContractFailure as exc:
                outcome, message = "failed", str(exc)
            except TimeoutError:
                outcome, message = "failed", f"no answer within {CASE_TIMEOUT:.0f} s"
            except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
                # A transport error, a body that is not the contract's JSON (`null`, a list where an object
                # belongs): the case failed, say how.
                outcome, message = "failed", f"{type(exc).__name__}: {exc}"
            result.cases.append(CaseResult(case.__name__, outcome, message, time.monotonic() - started))
    return result
