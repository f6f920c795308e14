"""Order confirmations: an anyio memory stream feeding a few workers that run in the lifespan's task group.

The request only sends into the stream (no wait); on shutdown the stream is closed, the workers finish
what was already sent (within a deadline) and the task group exits before the HTTP client closes.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

import anyio
import httpx
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

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
        send, receive = anyio.create_memory_object_stream[Notification](settings.notify_queue_size)
        self._send: MemoryObjectSendStream[Notification] = send
        self._receive: MemoryObjectReceiveStream[Notification] = receive

    def start_in(self, group: TaskGroup) -> None:
        for _ in range(self._settings.notify_workers):
            group.start_soon(self._work, self._receive.clone())
        self._receive.close()  # the workers hold their clones

    def enqueue(self, notification: Notification) -> None:
        try:
            self._send.send_nowait(notification)
        except anyio.WouldBlock:
            log.error("confirmation queue full; dropped the one of order %s", notification.order_id)

    def close(self) -> None:
        """No more confirmations: the workers stop once they have sent what is queued."""
        self._send.close()

    async def _work(self, receive: MemoryObjectReceiveStream[Notification]) -> None:
        async with receive:
            async for notification in receive:
                try:
                    await self._deliver(notification)
                except Exception:
                    log.exception("confirmation of order %s failed", notification.order_id)

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
                if response.status_code < 500 and response.status_code not in (408, 429):
                    if response.status_code >= 400:
                        log.error("confirmation of order %s rejected: %s", notification.order_id, response.status_code)
                    return
            except httpx.TransportError:
                if attempt == settings.notify_max_attempts:
                    raise
            if attempt < settings.notify_max_attempts:
                await anyio.sleep(delay + random.uniform(0, settings.notify_backoff_jitter_s))
                delay = min(delay * 2, settings.notify_backoff_max_s)
        log.error("confirmation of order %s not delivered after %d attempts", notification.order_id, attempt)
