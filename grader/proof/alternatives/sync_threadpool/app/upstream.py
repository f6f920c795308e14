"""The payments provider over one shared sync httpx.Client: charges retried by tenacity, rates, and a
thread that voids the charges of failed orders until the provider confirms each."""

from __future__ import annotations

import logging
import threading
import uuid
from decimal import Decimal

import httpx
from fastapi import HTTPException
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay, wait_exponential_jitter

from app.settings import Settings

log = logging.getLogger(__name__)


class Unavailable(Exception):
    """A status worth retrying (502/503/504)."""


class Upstream:
    def __init__(self, client: httpx.Client, settings: Settings) -> None:
        self._client = client
        self._settings = settings

    @staticmethod
    def new_key() -> str:
        return str(uuid.uuid4())

    def charge(self, amount_cents: int, email: str, key: str) -> str:
        retrying = Retrying(
            stop=stop_after_attempt(self._settings.charge_attempts) | stop_after_delay(self._settings.charge_budget_s),
            wait=wait_exponential_jitter(initial=0.1, max=1.0, jitter=0.1),
            retry=retry_if_exception_type((httpx.TransportError, Unavailable)),
            reraise=True,
        )
        try:
            response = retrying(self._charge_once, key, amount_cents, email)
        except httpx.TimeoutException:
            raise HTTPException(504, "payment provider timed out") from None
        except (httpx.TransportError, Unavailable):
            raise HTTPException(502, "payment provider unavailable") from None
        if response.status_code not in (200, 201):
            raise HTTPException(502, f"payment refused ({response.status_code})")
        return str(response.json()["id"])

    def _charge_once(self, key: str, amount_cents: int, email: str) -> httpx.Response:
        response = self._client.post(
            "/charges",
            json={"amount_cents": amount_cents, "currency": "USD", "customer_email": email},
            headers={"Idempotency-Key": key},
        )
        if response.status_code in (502, 503, 504):
            raise Unavailable(response.status_code)
        return response

    def rate(self, currency: str) -> Decimal:
        try:
            response = self._client.get(f"/rates/{currency}")
        except httpx.HTTPError:
            raise HTTPException(502, "rates unavailable") from None
        if response.status_code == 404:
            raise HTTPException(422, f"unknown currency {currency}")
        if response.status_code != 200:
            raise HTTPException(502, "rates unavailable")
        return Decimal(str(response.json()["rate"]))


class Voids:
    """Keys of charges to cancel (their orders failed after the charge was sent): one thread retries them all
    every `every_s` until the provider answers 200 for each."""

    def __init__(self, client: httpx.Client, every_s: float = 0.5) -> None:
        self._client = client
        self._every_s = every_s
        self._keys: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="voids", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def add(self, key: str) -> None:
        with self._lock:
            self._keys.add(key)

    def stop(self, within: float) -> None:
        """One last pass (within `within` seconds), then the keys still unconfirmed are logged."""
        self._stopping.set()
        self._thread.join(within)
        self._sweep()
        with self._lock:
            if self._keys:
                log.error("charges still to void: %s", ", ".join(sorted(self._keys)))

    def _run(self) -> None:
        while not self._stopping.wait(self._every_s):
            self._sweep()

    def _sweep(self) -> None:
        with self._lock:
            keys = sorted(self._keys)
        for key in keys:
            try:
                response = self._client.post("/cancellations", headers={"Idempotency-Key": key}, timeout=3.0)
            except httpx.HTTPError:
                continue
            if response.status_code == 200 or response.status_code < 500:
                if response.status_code != 200:
                    log.error("void of %s refused (%s): void it by hand", key, response.status_code)
                with self._lock:
                    self._keys.discard(key)
