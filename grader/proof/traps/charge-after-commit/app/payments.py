"""The external payments API: charges (retried, idempotent, deadline-bounded) and exchange rates."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
import stamina

from app.config import Settings
from app.errors import PaymentDeclined, PaymentTimeout, PaymentUnavailable, UnknownCurrency

# Gateway trouble worth another try; anything else (4xx, 500) would fail the same way again.
TRANSIENT_STATUSES = frozenset({502, 503, 504})


class _TransientStatus(Exception):
    """A retryable status, raised so the retry loop treats it like a transport failure."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"payments API answered {response.status_code}")
        self.response = response


def _is_transient(exc: Exception) -> bool:
    # TransportError covers refused/reset connections and connect/read/write/pool timeouts.
    return isinstance(exc, httpx.TransportError | _TransientStatus)


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

        Every attempt carries the same Idempotency-Key, so a retry after a lost answer never charges twice.
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
        """Send with bounded, jittered exponential back-off, all inside one overall deadline."""
        settings = self._settings
        try:
            async with asyncio.timeout(settings.payments_deadline_s):
                async for attempt in stamina.retry_context(
                    on=_is_transient,
                    attempts=settings.payments_max_attempts,
                    timeout=None,  # the deadline above bounds attempts and back-off sleeps together
                    wait_initial=settings.payments_backoff_initial_s,
                    wait_max=settings.payments_backoff_max_s,
                    wait_jitter=settings.payments_backoff_jitter_s,
                ):
                    with attempt:
                        return await self._attempt(method, path, **kwargs)
        except (TimeoutError, httpx.TimeoutException) as exc:  # the overall deadline, or the last attempt's
            raise PaymentTimeout("payments API timed out") from exc
        except (httpx.TransportError, _TransientStatus) as exc:
            raise PaymentUnavailable("payments API unavailable") from exc
        raise AssertionError("unreachable: the retry loop returns or raises")

    async def _attempt(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self._http.request(method, path, **kwargs)
        if response.status_code in TRANSIENT_STATUSES:
            raise _TransientStatus(response)
        return response
