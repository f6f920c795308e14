"""Order confirmations: one task per confirmation, started after the order is committed.

The tasks are kept in a set until they finish (the event loop only holds weak references to tasks),
each retries a failing endpoint with back-off, and on shutdown the app waits for the ones still
running, within a deadline, before the HTTP client closes.
"""

from __future__ import annotations

import asyncio
import logging
import random
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
        """Wait for the confirmations still in flight (within the drain timeout), cancel the rest."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=self._settings.shutdown_drain_timeout_s)
        if pending:
            log.error("shutdown: %d confirmation(s) still undelivered", len(pending))
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _deliver(self, notification: Notification) -> None:
        settings = self._settings
        body = {
            "order_id": notification.order_id,
            "customer_email": notification.customer_email,
            "total_cents": notification.total_cents,
        }
        delay = settings.notify_backoff_initial_s
        for attempt in range(1, settings.notify_max_attempts + 1):
            try:
                response = await self._http.post("/notifications", json=body, timeout=settings.notify_timeout_s)
            except httpx.TransportError as exc:
                outcome = repr(exc)
            else:
                if response.status_code < 400:
                    return
                if response.status_code < 500 and response.status_code not in (408, 429):
                    log.error("confirmation of order %s rejected: %s", notification.order_id, response.status_code)
                    return
                outcome = f"status {response.status_code}"
            if attempt == settings.notify_max_attempts:
                log.error("confirmation of order %s failed for good: %s", notification.order_id, outcome)
                return
            await asyncio.sleep(delay + random.uniform(0, settings.notify_backoff_jitter_s))
            delay = min(delay * 2, settings.notify_backoff_max_s)
