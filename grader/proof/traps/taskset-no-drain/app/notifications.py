"""Order confirmations: one background task per confirmation, started after the order is committed.

The tasks are kept in a set until they finish, because the event loop only holds weak references to
tasks: a confirmation is never garbage-collected half-way.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx

from app.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Notification:
    order_id: int
    customer_email: str
    total_cents: int


class Notifier:
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self._http = http
        self._settings = settings
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Nothing to start: a task is created per confirmation."""

    def enqueue(self, notification: Notification) -> None:
        task = asyncio.create_task(self._deliver(notification), name=f"notify-{notification.order_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Stop: confirmations still in flight are cancelled with the app."""
        for task in self._tasks:
            task.cancel()

    async def _deliver(self, notification: Notification) -> None:
        body = {
            "order_id": notification.order_id,
            "customer_email": notification.customer_email,
            "total_cents": notification.total_cents,
        }
        try:
            response = await self._http.post("/notifications", json=body, timeout=self._settings.notify_timeout_s)
            response.raise_for_status()
        except httpx.HTTPError:
            log.exception("confirmation of order %s failed", notification.order_id)
