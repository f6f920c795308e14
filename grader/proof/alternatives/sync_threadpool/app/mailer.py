"""Order confirmations sent by worker threads from a queue; stop() drains it before the client closes."""

from __future__ import annotations

import logging
import queue
import threading

import httpx
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

log = logging.getLogger(__name__)
_STOP = None


class Mailer:
    def __init__(self, client: httpx.Client, workers: int, attempts: int) -> None:
        self._client = client
        self._attempts = attempts
        self._queue: queue.Queue[dict[str, object] | None] = queue.Queue()
        self._threads = [threading.Thread(target=self._work, name=f"mailer-{n}", daemon=True) for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def post(self, order_id: int, email: str, total_cents: int) -> None:
        self._queue.put({"order_id": order_id, "customer_email": email, "total_cents": total_cents})

    def stop(self, within: float) -> None:
        """Send what is queued, then end the workers (each gets `within` seconds at most)."""
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join(within)

    def _work(self) -> None:
        while (message := self._queue.get()) is not _STOP:
            try:
                for attempt in Retrying(
                    stop=stop_after_attempt(self._attempts),
                    wait=wait_exponential(multiplier=0.2, max=3.0),
                    retry=retry_if_exception_type(httpx.HTTPError),
                ):
                    with attempt:
                        response = self._client.post("/notifications", json=message, timeout=10.0)
                        if response.status_code >= 500:  # a 4xx would fail the same way again
                            response.raise_for_status()
            except RetryError:
                log.exception("confirmation of order %s not delivered", message["order_id"])
