"""What a contract case gets: an HTTP client on the app, SQL on its database, the stub, a seeded RNG."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import httpx

from grader.contract._schema import violations
from grader.kitdata import API_KEY
from grader.runner.deploy import Deployment

COMMON_CURRENCIES = ("EUR", "GBP", "JPY", "CHF")  # the table the stub served before its rates moved


class ContractFailure(AssertionError):
    """A case's expectation did not hold; the message says what was expected and what came.

    `integrity`: whether the failure shows the service reporting work it did not do. None leaves it to the
    case's declaration; a wrong status or a body off the document is never one (nothing was reported yet).
    """

    def __init__(self, message: str, *, integrity: bool | None = None) -> None:
        super().__init__(message)
        self.integrity = integrity


def expect(condition: object, message: str, *, integrity: bool | None = None) -> None:
    if not condition:
        raise ContractFailure(message, integrity=integrity)


def expect_status(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        body = response.text[:300]
        raise ContractFailure(
            f"{response.request.method} {response.request.url.raw_path.decode()} answered "
            f"{response.status_code}, expected {status}: {body}",
            integrity=False,
        )


async def check_body(response: httpx.Response) -> None:
    """The client's response hook: every body the app sends is checked against contract/openapi.json."""
    await response.aread()
    problem = violations(response)
    if problem is not None:
        raise ContractFailure(problem, integrity=False)


@dataclass
class ContractContext:
    client: httpx.AsyncClient
    deployment: Deployment
    rng: random.Random
    # What cases leave for later ones; one dict may span several runs on one deployment (tests do).
    state: dict[str, Any] = field(default_factory=dict)

    async def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(self.deployment.query, sql, *params)

    async def scalar(self, sql: str, *params: object) -> Any:
        return await asyncio.to_thread(self.deployment.scalar, sql, *params)

    async def post_order(self, body: object, *, key: str | None = API_KEY) -> httpx.Response:
        headers = {"X-API-Key": key} if key is not None else {}
        return await self.client.post("/orders", json=body, headers=headers)

    async def charges(self) -> list[dict[str, Any]]:
        """The charges the payments stub created (since the deployment began)."""
        return await asyncio.to_thread(self.deployment.stub.charges)

    async def rates(self) -> dict[str, str]:
        """The stub's exchange rates for this deployment."""
        return await asyncio.to_thread(self.deployment.stub.rates)

    def fresh_currency(self, rates: dict[str, str]) -> str:
        """A currency of the stub's table that no case on this deployment asked for yet (none is cached)."""
        seen: set[str] = self.state.setdefault("currencies_seen", set())
        # The currencies a copied table would hold come first: a stale or invented rate for one of them shows
        # as a wrong rate (the service reporting a conversion it did not do), not as a refused currency.
        common = sorted(set(COMMON_CURRENCIES) & set(rates) - seen)
        currency = self.rng.choice(common or sorted(set(rates) - seen - {"USD"}))
        seen.add(currency)
        return currency

    async def stocked_products(self, min_stock: int) -> list[tuple[int, int, int, str]]:
        """Every unused product (id, price_cents, stock, category) with at least `min_stock`, by id."""
        used: set[int] = self.state.setdefault("used_products", set())
        rows = await self.query(
            "SELECT id, price_cents, stock, category FROM products WHERE stock >= %s ORDER BY id", min_stock
        )
        return [(int(r[0]), int(r[1]), int(r[2]), str(r[3])) for r in rows if r[0] not in used]

    def use(self, product_ids: list[int]) -> None:
        self.state.setdefault("used_products", set()).update(product_ids)

    async def pick_products(self, count: int, *, min_stock: int = 100) -> list[tuple[int, int, int]]:
        """`count` distinct random (id, price_cents, stock) with plenty of stock, never used before."""
        chosen = self.rng.sample(await self.stocked_products(min_stock), count)
        self.use([row[0] for row in chosen])
        return [(pid, price, stock) for pid, price, stock, _ in chosen]

    def new_email(self) -> str:
        return f"buyer{self.rng.randrange(10**9)}@example.org"
