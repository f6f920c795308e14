"""Both apps against the hidden functional contract, over HTTP, with SQL checks."""

from __future__ import annotations

import asyncio

import pytest

from grader.contract import ContractResult, run_contract
from grader.contract.cases import CASES
from grader.probes import ProbeTarget

pytestmark = pytest.mark.slow


def _run(target: ProbeTarget, seed: int) -> ContractResult:
    with target.deploy() as deployment:
        return asyncio.run(run_contract(deployment, seed=seed))


def _report(result: ContractResult) -> str:
    return "\n".join(f"{case.name}: {case.message}" for case in result.failures())


@pytest.mark.parametrize("seed", [1, 2])
def test_solution_passes_the_whole_contract(solution: ProbeTarget, seed: int) -> None:
    """The reference solution passes every case, whatever the random data."""
    result = _run(solution, seed)
    assert result.failed == 0, _report(result)
    assert result.passed == len(CASES)


def test_exercise_passes_the_contract_at_low_concurrency(exercise: ProbeTarget) -> None:
    """The exercise works functionally: its flaws only show under load and faults."""
    result = _run(exercise, 3)
    assert result.failed == 0, _report(result)
