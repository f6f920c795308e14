"""Whether the work an app reports was really done: each 201's charge at the provider, retries at the stub.

A fast answer proves nothing if the work behind it was skipped: a 201 whose payment id the payments API
never issued (made up when the provider was slow), two orders on one charge, a charge no order carries
(a retry under a new Idempotency-Key, a charge left behind by a failed order). The payments stub records
every charge by Idempotency-Key (`charges_by_key`: id, amount, currency) and every attempt per key, so
each order the app answered can be held against what the provider actually did.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from grader.infra.payments_stub import live_charge_ids
from grader.kitdata import API_KEY
from grader.probes._measure import OrderMaker, Samples, app_client, timed

EXAMPLES = 2  # order ids named in a finding, so it stays one line


@dataclass
class Placed:
    """Orders as the app answered them: the samples, and the body of every 201."""

    samples: Samples = field(default_factory=Samples)
    created: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [int(order["id"]) for order in self.created if isinstance(order.get("id"), int)]


async def place_one(client: httpx.AsyncClient, body: dict[str, object], placed: Placed) -> httpx.Response | None:
    response = await timed(placed.samples, client.post("/orders", json=body, headers={"X-API-Key": API_KEY}))
    if response is not None and response.status_code == 201:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        placed.created.append(answer if isinstance(answer, dict) else {})
    return response


def place_orders(url: str, maker: OrderMaker, count: int) -> Placed:
    """`count` orders placed one after another, each answer kept."""

    async def place() -> Placed:
        placed = Placed()
        async with app_client(url) as client:
            for _ in range(count):
                await place_one(client, maker.body(), placed)
        return placed

    return asyncio.run(place())


def _examples(ids: Sequence[object]) -> str:
    shown = ", ".join(str(i) for i in ids[:EXAMPLES])
    return f"{shown}, ..." if len(ids) > EXAMPLES else shown


def charge_findings(created: Iterable[Mapping[str, Any]], stats: Mapping[str, Any], where: str) -> list[str]:
    """Integrity findings for orders answered 201 during `where`, against the stub's `stats()` of it.

    Every 201 must carry the id of a charge the payments API created, for the order's own total, and no
    two orders may share one charge.
    """
    charges = {str(c.get("id")): c for c in stats.get("charges_by_key", {}).values()}
    no_id: list[object] = []
    unknown: list[object] = []
    wrong_amount: list[object] = []
    seen: dict[str, object] = {}
    shared: list[object] = []
    for order in created:
        order_id = order.get("id", "?")
        payment_id = order.get("payment_id")
        if not isinstance(payment_id, str) or not payment_id:
            no_id.append(order_id)
            continue
        charge = charges.get(payment_id)
        if charge is None:
            unknown.append(order_id)
        elif charge.get("amount_cents") != order.get("total_cents"):
            wrong_amount.append(order_id)
        if payment_id in seen:
            shared.append(order_id)
        seen[payment_id] = order_id
    findings = []
    if no_id:
        findings.append(f"{len(no_id)} orders answered 201 without a payment id {where} (orders {_examples(no_id)})")
    if unknown:
        findings.append(
            f"{len(unknown)} orders answered 201 {where} with a payment id the payments API never issued"
            f" (orders {_examples(unknown)})"
        )
    if wrong_amount:
        findings.append(
            f"{len(wrong_amount)} orders answered 201 {where} carry a charge of another amount than their total"
            f" (orders {_examples(wrong_amount)})"
        )
    if shared:
        findings.append(
            f"{len(shared)} orders {where} carry a charge another order carries (orders {_examples(shared)})"
        )
    return findings


def orphan_charges(stats: Mapping[str, Any], payment_ids: Iterable[object]) -> int:
    """Charges the payments API holds (made, not refunded) that no order of the app carries: money taken."""
    return len(live_charge_ids(stats) - {str(p) for p in payment_ids if p is not None})


def charge_requests(stats: Mapping[str, Any]) -> int:
    """POST /charges requests the stub received (every attempt, whatever its key)."""
    return int(stats.get("requests", {}).get("charges", 0))


def attempts_of(stats: Mapping[str, Any], created: Iterable[Mapping[str, Any]]) -> list[int]:
    """For each 201, the attempts its charge's Idempotency-Key took at the payments API (0: no such charge)."""
    key_of = {str(c.get("id")): key for key, c in stats.get("charges_by_key", {}).items()}
    attempts: Mapping[str, int] = stats.get("charge_attempts_by_key", {})
    return [int(attempts.get(key_of.get(str(order.get("payment_id")), ""), 0)) for order in created]
