"""The payments provider: charges with a hand-written retry loop under one deadline, voids, and rates."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from decimal import Decimal

import httpx
from fastapi import HTTPException

from app.config import Config

RETRY_STATUSES = {502, 503, 504}
VOID_FOR_S = 3600.0  # how long a void is retried before an operator has to do it

log = logging.getLogger(__name__)


class Gateway:
    def __init__(self, http: httpx.AsyncClient, config: Config) -> None:
        self._http = http
        self._config = config
        self._voiding: set[asyncio.Task[None]] = set()

    async def charge(self, amount_cents: int, email: str, key: str) -> str:
        """The payment id; 502 when the provider declines or stays down, 504 when it does not answer."""
        try:
            return await asyncio.wait_for(self._charge(amount_cents, email, key), self._config.charge_deadline_s)
        except (TimeoutError, httpx.TimeoutException):
            raise HTTPException(504, "Payment provider timed out") from None

    def void_later(self, key: str) -> None:
        """Undo whatever the provider did under `key`, in the background: it may have charged after all."""
        task = asyncio.create_task(self._void(key), name=f"void of charge {key}")
        self._voiding.add(task)
        task.add_done_callback(self._voiding.discard)

    async def flush(self, within: float) -> None:
        """Wait for voids in flight (at most `within` seconds); name the keys of those given up."""
        if not self._voiding:
            return
        _, late = await asyncio.wait(set(self._voiding), timeout=within)
        for task in late:
            log.error("shutdown: %s not confirmed", task.get_name())
            task.cancel()

    async def _void(self, key: str) -> None:
        give_up = time.monotonic() + VOID_FOR_S
        delay = 0.2
        while True:
            try:
                response = await self._http.post("/cancellations", headers={"Idempotency-Key": key}, timeout=3.0)
            except httpx.TransportError:
                pass
            else:
                if response.status_code == 200:
                    return
                if response.status_code not in RETRY_STATUSES:
                    log.error("void of charge %s refused (%s): void it by hand", key, response.status_code)
                    return
            if time.monotonic() > give_up:
                log.error("void of charge %s never confirmed: void it by hand", key)
                return
            await asyncio.sleep(delay + random.uniform(0, 0.1))
            delay = min(delay * 2, 2.0)

    async def _charge(self, amount_cents: int, email: str, key: str) -> str:
        headers = {"Idempotency-Key": key}  # one key for every attempt of this charge
        body = {"amount_cents": amount_cents, "currency": "USD", "customer_email": email}
        attempts = self._config.charge_attempts
        for attempt in range(1, attempts + 1):
            try:
                response = await self._http.post(
                    "/charges", json=body, headers=headers, timeout=self._config.charge_attempt_timeout_s
                )
            except httpx.TimeoutException:
                if attempt == attempts:
                    raise
            except httpx.TransportError:
                if attempt == attempts:
                    raise HTTPException(502, "Payment provider unreachable") from None
            else:
                if response.status_code in (200, 201):
                    return str(response.json()["id"])
                if response.status_code not in RETRY_STATUSES or attempt == attempts:
                    raise HTTPException(502, f"Payment failed ({response.status_code})")
            await asyncio.sleep(0.1 * 2**attempt + random.uniform(0, 0.1))
        raise AssertionError("the loop returns or raises")

    async def rate(self, currency: str) -> Decimal:
        try:
            response = await self._http.get(f"/rates/{currency}", timeout=3.0)
        except httpx.HTTPError:
            raise HTTPException(502, "Rates unavailable") from None
        if response.status_code == 404:
            raise HTTPException(422, f"Unknown currency {currency}")
        if response.status_code != 200:
            raise HTTPException(502, "Rates unavailable")
        return Decimal(str(response.json()["rate"]))
