"""Both apps against the hidden functional contract, over HTTP, with SQL checks."""

from __future__ import annotations

import asyncio
import json
import random
import time
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from grader.contract import ContractResult, run_contract
from grader.contract._schema import OPENAPI, violations
from grader.contract.cases import CASES, _half_cent_order
from grader.contract.openapi import contract_document, openapi_document
from grader.infra.payments_stub import draw_rates
from grader.probes import ProbeTarget

ROOT = Path(__file__).resolve().parents[1]

# The solution runs the seed-dependent cases for 20 seeds (~28 s); the exercise, whose every conversion
# waits 1 s on its own loop, for 5 (~28 s: 20 would add 85 s to `make test`).
SEEDS = {"solution": range(1, 21), "exercise": range(1, 6)}
# Cases whose requests and verdict the seed cannot change (fixed keys, fixed faults, fixed paths): run once
# per deployment; every other case (random products, orders, customers, pages, currencies, and the
# deployment's rates) runs for every seed.
SEED_FREE = frozenset({
    "health_answers_ok", "non_integer_ids_are_422", "product_list_defaults_to_twenty_by_id",
    "bad_api_keys_are_401_and_write_nothing", "declined_payment_is_502_and_rolled_back",
    "payments_down_is_502_and_rolled_back", "bad_currency_is_422",
})  # fmt: skip
SEEDED = [case for case in CASES if case.name not in SEED_FREE]


def _report(result: ContractResult) -> str:
    return "\n".join(f"{case.name}: {case.message}" for case in result.failures())


def _outcomes(result: ContractResult) -> list[tuple[str, str]]:
    return [(case.name, case.outcome) for case in result.cases]


@pytest.mark.slow
@pytest.mark.parametrize("app", ["solution", "exercise"])
def test_contract_passes_for_twenty_seeds(app: str, request: pytest.FixtureRequest) -> None:
    """The solution and the exercise pass every case, and the seed-dependent ones for each of 20 (5) seeds, each
    seed with its own exchange rates: the same submission gets the same contract result whatever the seed."""
    target: ProbeTarget = request.getfixturevalue(app)
    state: dict[str, Any] = {}  # products and currencies used by earlier runs stay used: no cache holds them
    results: dict[int, ContractResult] = {}
    with target.deploy() as deployment:
        started = time.monotonic()
        results[0] = asyncio.run(run_contract(deployment, seed=0, state=state))
        print(f"{app}: every case, seed 0: {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        for seed in SEEDS[app]:
            deployment.stub.reset(new_rates=True)  # a new deployment's rates, as a grade with this seed has them
            results[seed] = asyncio.run(run_contract(deployment, seed=seed, cases=SEEDED, state=state))
        print(f"{app}: {len(SEEDED)} cases x {len(SEEDS[app])} seeds: {time.monotonic() - started:.1f} s")
    failing = {seed: _report(result) for seed, result in results.items() if result.failed}
    assert not failing, failing
    assert _outcomes(results[0]) == [(case.name, "passed") for case in CASES]
    assert all(_outcomes(results[seed]) == [(case.name, "passed") for case in SEEDED] for seed in SEEDS[app])


def test_seed_free_cases_are_cases() -> None:
    """Every name the seed test runs only once is a case of the suite (a rename cannot drop it silently)."""
    assert SEED_FREE.issubset(case.name for case in CASES)


# --- without a deployment ---------------------------------------------------------------------------

ORDER = {
    "id": 1, "customer_email": "a@example.com", "status": "paid", "currency": "USD", "total_cents": 1250,
    "payment_id": "ch_1", "created_at": "2026-01-01T00:13:00+00:00",
    "items": [{"product_id": 7, "quantity": 1, "unit_price_cents": 1250}],
}  # fmt: skip


def _response(method: str, path: str, status: int, body: object) -> httpx.Response:
    request = httpx.Request(method, f"http://127.0.0.1{path}")
    return httpx.Response(status, json=body, request=request)


def test_openapi_json_is_the_solutions_document_with_the_contracts_rules() -> None:
    """contract/openapi.json is what `make openapi` writes now: regenerated whenever the solution's API changes."""
    assert json.loads(OPENAPI.read_text()) == contract_document(openapi_document(ROOT / "solution"))


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/orders/1", 200, ORDER),
        ("GET", "/orders/1", 200, {**ORDER, "converted": {"currency": "EUR", "rate": "0.9213", "total": "11.52"}}),
        ("POST", "/orders", 201, ORDER),
        ("GET", "/customers/a@example.com/orders", 200, {"customer_email": "a@example.com", "orders": [ORDER]}),
        ("GET", "/orders/1", 404, {"detail": "order 1 not found"}),
        ("GET", "/products", 422, {"detail": [{"loc": ["query", "limit"], "msg": "too big", "type": "x"}]}),
        ("GET", "/health", 200, {"status": "ok"}),
    ],
)
def test_a_body_of_the_contract_passes(method: str, path: str, status: int, body: object) -> None:
    """Bodies as the contract has them validate against openapi.json."""
    assert violations(_response(method, path, status, body)) is None


RENAMED = {**{k: v for k, v in ORDER.items() if k != "total_cents"}, "totalCents": 1250}


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        ("/customers/a@example.com/orders", {"customer_email": "a@example.com", "orders": [RENAMED]}, "totalCents"),
        ("/orders/1", {**ORDER, "customer_id": 4}, "customer_id"),
        ("/orders/1", {**ORDER, "converted": None}, "converted"),
        ("/orders/1", {**ORDER, "converted": {"currency": "EUR", "rate": "0.92", "total": 11.5}}, "total"),
        ("/orders/1", {**ORDER, "total_cents": "1250"}, "total_cents"),
        ("/orders/1", {**ORDER, "created_at": "yesterday"}, "created_at"),
        ("/orders/404", {"error": "not found"}, "detail"),
    ],
)
def test_a_body_off_the_contract_is_named(path: str, body: object, says: str) -> None:
    """A renamed, stray, null, mistyped or malformed field fails validation, and the message names it."""
    status = 404 if "error" in str(body) else 200
    problem = violations(_response("GET", path, status, body))
    assert problem is not None
    assert says in problem


def test_every_case_declares_a_severity_and_a_unique_name() -> None:
    """Each case is critical, major or minor, and names are unique (the report keys results by name)."""
    assert {case.severity for case in CASES} <= {"critical", "major", "minor"}
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("seed", range(20))
def test_a_half_cent_order_is_found_for_any_drawn_rate(seed: int) -> None:
    """For every rate the stub may draw, the rounding case finds an order whose conversion is a half cent
    above an even cent, where half-up and half-even differ."""
    rates = draw_rates(f"{seed}:1")
    rate = Decimal(rates[random.Random(seed).choice(sorted(set(rates) - {"USD"}))])
    products = [(i, 199 + (i * 2654435761) % 49800, 1000, "books") for i in range(1, 10001)]  # db/seed.sql
    lines = _half_cent_order(products, rate)
    assert lines is not None
    prices = {pid: price for pid, price, _, _ in products}
    exact = Decimal(sum(prices[pid] * quantity for pid, quantity in lines)) * rate / 100
    half_up = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert half_up != exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
