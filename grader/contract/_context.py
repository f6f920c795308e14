"""What a contract case gets: an HTTP client on the app, SQL on its database, the stub, a seeded RNG."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import httpx

from grader.kitdata import API_KEY
from grader.runner.deploy import Deployment


class ContractFailure(AssertionError):
    """A case's expectation did not hold; the message says what was expected and what came."""


def expect(condition: object, message: str) -> None:
    if not condition:
        raise ContractFailure(message)


def expect_status(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        body = response.text[:300]
        raise ContractFailure(
            f"{response.request.method} {response.request.url.raw_path.decode()} answered "
            f"{response.status_code}, expected {status}: {body}"
        )


@dataclass
class ContractContext:
    client: httpx.AsyncClient
    deployment: Deployment
    rng: random.Random
    state: dict[str, Any] = field(default_factory=dict)

    async def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(self.deployment.query, sql, *params)

    async def scalar(self, sql: str, *params: object) -> Any:
        return await asyncio.to_thread(self.deployment.scalar, sql, *params)

    async def post_order(self, body: object, *, key: str | None = API_KEY) -> httpx.Response:
        headers = {"X-API-Key": key} if key is not None else {}
        return await self.client.post("/orders", json=body, headers=headers)

    async def pick_products(self, count: int, *, min_stock: int = 100) -> list[tuple[int, int, int]]:
        """`count` distinct random (id, price_cents, stock) with plenty of stock, never used before."""
        used: set[int] = self.state.setdefault("used_products", set())
        rows = await self.query("SELECT id, price_cents, stock FROM products WHERE stock >= %s ORDER BY id", min_stock)
        free = [row for row in rows if row[0] not in used]
        chosen = self.rng.sample(free, count)
        used.update(row[0] for row in chosen)
        return [(int(r[0]), int(r[1]), int(r[2])) for r in chosen]

    def new_email(self) -> str:
        return f"buyer{self.rng.randrange(10**9)}@example.org"
