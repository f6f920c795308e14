"""Payments provider calls: tenacity's async retries inside one asyncio.timeout per charge, and a sweeper
that cancels the charges of failed orders until the provider confirms each."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from decimal import Decimal

import httpx
from fastapi import HTTPException
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

log = logging.getLogger(__name__)
SWEEP_EVERY_S = 0.5


class _Again(Exception):
    """The provider answered with a status worth another try."""


class PaymentsApi:
    def __init__(self, http: httpx.AsyncClient, deadline_s: float) -> None:
        self._http = http
        self._deadline_s = deadline_s
        self._to_cancel: set[str] = set()  # keys of failed orders' charges the provider has not confirmed cancelled

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(16)  # the same on every retry: the provider charges once

    def cancel_later(self, key: str) -> None:
        """The order behind `key` failed after its charge was sent: the sweeper cancels that charge."""
        self._to_cancel.add(key)

    async def sweep_forever(self) -> None:
        """Cancel every key waiting, again and again, until the provider confirms it (run for the app's life)."""
        while True:
            await self.sweep()
            await asyncio.sleep(SWEEP_EVERY_S)

    async def sweep(self) -> None:
        for key in sorted(self._to_cancel):
            with contextlib.suppress(TimeoutError, httpx.HTTPError):
                async with asyncio.timeout(3.0):
                    answer = await self._http.post("/cancellations", headers={"Idempotency-Key": key})
                if answer.status_code == 200:
                    self._to_cancel.discard(key)
                elif answer.status_code < 500:
                    log.error("cancellation of %s refused (%s): cancel it by hand", key, answer.status_code)
                    self._to_cancel.discard(key)

    def left(self) -> list[str]:
        return sorted(self._to_cancel)

    async def charge(self, amount_cents: int, email: str, key: str) -> str:
        body = {"amount_cents": amount_cents, "currency": "USD", "customer_email": email}
        try:
            async with asyncio.timeout(self._deadline_s):
                async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(3),
                    wait=wait_random_exponential(multiplier=0.1, max=1.0),
                    retry=retry_if_exception_type((httpx.TransportError, _Again)),
                    reraise=True,
                ):
                    with attempt:
                        answer = await self._post_charge(body, key)
        except (TimeoutError, httpx.TimeoutException):
            raise HTTPException(504, "payments timed out") from None
        except (httpx.TransportError, _Again):
            raise HTTPException(502, "payments unavailable") from None
        if answer.status_code not in (200, 201):
            raise HTTPException(502, "payment not accepted")
        return str(answer.json()["id"])

    async def _post_charge(self, body: dict[str, object], key: str) -> httpx.Response:
        answer = await self._http.post("/charges", json=body, headers={"Idempotency-Key": key})
        if answer.status_code in (502, 503, 504):
            raise _Again
        return answer

    async def rate(self, currency: str) -> Decimal:
        try:
            async with asyncio.timeout(3.0):
                answer = await self._http.get(f"/rates/{currency}")
        except (TimeoutError, httpx.HTTPError):
            raise HTTPException(502, "rates unavailable") from None
        if answer.status_code == 404:
            raise HTTPException(422, f"unknown currency {currency}")
        if answer.status_code != 200:
            raise HTTPException(502, "rates unavailable")
        return Decimal(str(answer.json()["rate"]))


async def confirm(http: httpx.AsyncClient, order_id: int, email: str, total_cents: int) -> None:
    """Run by BackgroundTasks once the response is sent: a few tries with a growing pause."""
    body = {"order_id": order_id, "customer_email": email, "total_cents": total_cents}
    for pause in (0.2, 0.5, 1.0, 2.0, 4.0, None):
        try:
            async with asyncio.timeout(10.0):
                answer = await http.post("/notifications", json=body)
            if answer.status_code < 500:
                return
        except (TimeoutError, httpx.TransportError):
            pass
        if pause is not None:
            await asyncio.sleep(pause)
