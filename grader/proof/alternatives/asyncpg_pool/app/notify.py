"""Order confirmations as background tasks; the set keeps them alive and lets shutdown wait for them."""

from __future__ import annotations

import asyncio
import logging

import httpx

log = logging.getLogger(__name__)


class Confirmations:
    def __init__(self, http: httpx.AsyncClient, attempts: int) -> None:
        self._http = http
        self._attempts = attempts
        self._pending: set[asyncio.Task[None]] = set()

    def send(self, order_id: int, email: str, total_cents: int) -> None:
        body = {"order_id": order_id, "customer_email": email, "total_cents": total_cents}
        task = asyncio.create_task(self._deliver(body))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver(self, body: dict[str, object]) -> None:
        for attempt in range(self._attempts):
            try:
                response = await self._http.post("/notifications", json=body, timeout=10.0)
                if response.status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(min(0.2 * 2**attempt, 3.0))
        log.error("confirmation of order %s was not delivered", body["order_id"])

    async def flush(self, within: float) -> None:
        """Wait for deliveries in flight (at most `within` seconds), then give up on the rest."""
        if not self._pending:
            return
        _, late = await asyncio.wait(set(self._pending), timeout=within)
        for task in late:
            task.cancel()
