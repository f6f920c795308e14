"""The external payments API: charges (idempotent, deadline-bounded) and exchange rates."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from app.config import Settings
from app.errors import PaymentDeclined, PaymentTimeout, PaymentUnavailable, UnknownCurrency

# Gateway trouble: the provider is down or overloaded.
TRANSIENT_STATUSES = frozenset({502, 503, 504})


class _TransientStatus(Exception):
    """A gateway status, raised so it is handled like a transport failure."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"payments API answered {response.status_code}")
        self.response = response


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise PaymentUnavailable("payments API sent an unreadable answer") from exc
    if not isinstance(body, dict):
        raise PaymentUnavailable("payments API sent an unexpected answer")
    return body


class PaymentsClient:
    """Calls the payments API over the app's one shared `httpx.AsyncClient` (base URL = PAYMENTS_URL)."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self._http = http
        self._settings = settings
        self._rates: dict[str, tuple[Decimal, float]] = {}  # currency -> (rate, expiry on the monotonic clock)

    async def charge(self, amount_cents: int, customer_email: str, idempotency_key: str) -> str:
        """Charge `amount_cents` USD and return the payment id.

        The Idempotency-Key is fresh per order: a client that retries the order gets a new charge attempt.
        """
        response = await self._request(
            "POST",
            "/charges",
            json={"amount_cents": amount_cents, "currency": "USD", "customer_email": customer_email},
            headers={"Idempotency-Key": idempotency_key},
        )
        if response.status_code == 402:
            raise PaymentDeclined("payment declined")
        if response.status_code not in (200, 201):  # 200: the same charge replayed for a known key
            raise PaymentUnavailable(f"payments API answered {response.status_code}")
        payment_id = _json(response).get("id")
        if not isinstance(payment_id, str):
            raise PaymentUnavailable("payments API answered without a charge id")
        return payment_id

    async def get_rate(self, currency: str) -> Decimal:
        """USD -> `currency` exchange rate, cached briefly: rates move slowly and reads are hot."""
        now = time.monotonic()
        cached = self._rates.get(currency)
        if cached is not None and cached[1] > now:
            return cached[0]
        response = await self._request("GET", f"/rates/{currency}")
        if response.status_code == 404:
            raise UnknownCurrency(f"unknown currency: {currency}")
        if response.status_code != 200:
            raise PaymentUnavailable(f"payments API answered {response.status_code}")
        try:
            rate = Decimal(str(_json(response)["rate"]))
        except (KeyError, InvalidOperation) as exc:
            raise PaymentUnavailable("payments API sent an unreadable rate") from exc
        if not rate.is_finite() or rate <= 0:
            raise PaymentUnavailable("payments API sent an invalid rate")
        self._rates[currency] = (rate, now + self._settings.rates_ttl_s)
        return rate

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send once, inside one overall deadline.

        No retries here: a failed charge is answered 502/504 at once and the shop's client retries the
        order, so a payments outage never piles up waiting requests in this service.
        """
        try:
            async with asyncio.timeout(self._settings.payments_deadline_s):
                return await self._attempt(method, path, **kwargs)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise PaymentTimeout("payments API timed out") from exc
        except (httpx.TransportError, _TransientStatus) as exc:
            raise PaymentUnavailable("payments API unavailable") from exc

    async def _attempt(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self._http.request(method, path, **kwargs)
        if response.status_code in TRANSIENT_STATUSES:
            raise _TransientStatus(response)
        return response
