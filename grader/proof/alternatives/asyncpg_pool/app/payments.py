"""The payments provider: charges with a hand-written retry loop under one deadline, and rates."""

from __future__ import annotations

import asyncio
import random
import uuid
from decimal import Decimal

import httpx
from fastapi import HTTPException

from app.config import Config

RETRY_STATUSES = {502, 503, 504}


class Gateway:
    def __init__(self, http: httpx.AsyncClient, config: Config) -> None:
        self._http = http
        self._config = config

    async def charge(self, amount_cents: int, email: str) -> str:
        """The payment id; 502 when the provider declines or stays down, 504 when it does not answer."""
        try:
            return await asyncio.wait_for(self._charge(amount_cents, email), self._config.charge_deadline_s)
        except (TimeoutError, httpx.TimeoutException):
            raise HTTPException(504, "Payment provider timed out") from None

    async def _charge(self, amount_cents: int, email: str) -> str:
        headers = {"Idempotency-Key": uuid.uuid4().hex}  # one key for every attempt of this charge
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
