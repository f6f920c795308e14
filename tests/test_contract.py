"""Both apps against the hidden functional contract, over HTTP, with SQL checks."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from grader.contract import ContractResult, run_contract
from grader.contract.cases import CASES
from grader.probes import ProbeTarget

pytestmark = pytest.mark.slow

SEEDS = range(1, 21)


def _report(result: ContractResult) -> str:
    return "\n".join(f"{case.name}: {case.message}" for case in result.failures())


def _outcomes(result: ContractResult) -> list[tuple[str, str]]:
    return [(case.name, case.outcome) for case in result.cases]


@pytest.mark.parametrize("app", ["solution", "exercise"])
def test_contract_passes_for_twenty_seeds(app: str, request: pytest.FixtureRequest) -> None:
    """The solution and the exercise pass every case for each of 20 seeds, each with its own rates."""
    target: ProbeTarget = request.getfixturevalue(app)
    state: dict[str, Any] = {}  # products and currencies used by earlier runs stay used: no cache holds them
    results: dict[int, ContractResult] = {}
    with target.deploy() as deployment:
        for seed in SEEDS:
            if results:  # a new deployment's rates, as a grade with this seed would get them
                deployment.stub.reset(new_rates=True)
            started = time.monotonic()
            results[seed] = asyncio.run(run_contract(deployment, seed=seed, state=state))
            print(f"{app} seed {seed}: {time.monotonic() - started:.1f} s")
    failing = {seed: _report(result) for seed, result in results.items() if result.failed}
    assert not failing, failing
    assert all(_outcomes(result) == [(case.name, "passed") for case in CASES] for result in results.values())
