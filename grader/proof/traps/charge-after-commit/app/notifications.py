"""Order confirmations, delivered off the request path by a few long-lived worker tasks.

The request only enqueues (no await, no I/O); workers post to `{PAYMENTS_URL}/notifications` with
bounded retries. On shutdown the queue is drained within a deadline before the HTTP client closes.
Delivery is at least once while the process lives; a crash loses what is still queued (a durable
outbox table would close that gap, but the schema belongs to the kit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import httpx
import stamina

from app.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Notification:
    order_id: int
    customer_email: str
    total_cents: int


class _RetryableStatus(Exception):
    pass


def _is_retryable(exc: Exception) -> bool:
    return isinstance(exc, httpx.TransportError | _RetryableStatus)


class Notifier:
    """A bounded queue plus `notify_workers` tasks; start() in lifespan startup, drain() on shutdown."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self._http = http
        self._settings = settings
        self._queue: asyncio.Queue[Notification] = asyncio.Queue(maxsize=settings.notify_queue_size)
        self._workers: list[asyncio.Task[None]] = []  # kept: the loop holds tasks only weakly

    def start(self) -> None:
        count = self._settings.notify_workers
        self._workers = [asyncio.create_task(self._work(), name=f"notifier-{n}") for n in range(count)]

    def enqueue(self, notification: Notification) -> None:
        """Hand a confirmation to the workers; never blocks the caller."""
        if self._queue.full():
            # Shedding beats making customers wait on a dead endpoint; the log line is the trace.
            log.error("notification queue full; dropped confirmation of order %s", notification.order_id)
            return
        self._queue.put_nowait(notification)

    async def drain(self) -> None:
        """Deliver what is queued (within the shutdown drain timeout), then stop the workers."""
        limit = self._settings.shutdown_drain_timeout_s
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit) as deadline:
                await self._queue.join()
        if deadline.expired():
            log.error("shutdown: %d notification(s) still queued after %.1f s", self._queue.qsize(), limit)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    async def _work(self) -> None:
        while True:
            notification = await self._queue.get()
            try:
                await self._deliver(notification)
            except Exception:
                log.exception("notification of order %s failed for good", notification.order_id)
            finally:
                self._queue.task_done()

    async def _deliver(self, notification: Notification) -> None:
        settings = self._settings
        body = {
            "order_id": notification.order_id,
            "customer_email": notification.customer_email,
            "total_cents": notification.total_cents,
        }
        async for attempt in stamina.retry_context(
            on=_is_retryable,
            attempts=settings.notify_max_attempts,
            timeout=None,
            wait_initial=settings.notify_backoff_initial_s,
            wait_max=settings.notify_backoff_max_s,
            wait_jitter=settings.notify_backoff_jitter_s,
        ):
            with attempt:
                # A slow receiver gets longer than a charge would: nobody is waiting on this call.
                response = await self._http.post(
                    "/notifications", json=body, timeout=settings.notify_timeout_s
                )
                if response.status_code >= 500 or response.status_code in (408, 429):
                    raise _RetryableStatus(f"notifications endpoint answered {response.status_code}")
                if response.status_code >= 400:
                    log.error(
                        "notification of order %s rejected: %s", notification.order_id, response.status_code
                    )
