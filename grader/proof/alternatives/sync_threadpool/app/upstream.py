"""The payments provider over one shared sync httpx.Client: charges retried by tenacity, rates."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
from fastapi import HTTPException
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay, wait_exponential_jitter

from app.settings import Settings


class Unavailable(Exception):
    """A status worth retrying (502/503/504)."""


class Upstream:
    def __init__(self, client: httpx.Client, settings: Settings) -> None:
        self._client = client
        self._settings = settings

    def charge(self, amount_cents: int, email: str) -> str:
        key = str(uuid.uuid4())
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
