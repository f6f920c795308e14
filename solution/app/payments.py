"""The external payments API: charges (retried, idempotent, deadline-bounded), their cancellation, rates."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
import stamina

from app.config import Settings
from app.errors import PaymentDeclined, PaymentTimeout, PaymentUnavailable, UnknownCurrency

log = logging.getLogger(__name__)

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


class _ServerError(Exception):
    """The provider failed on its side (5xx): a cancellation is tried again."""


def _cancel_again(exc: Exception) -> bool:
    # A cancellation must land: every failure the provider can recover from is retried, a 500 included.
    return isinstance(exc, httpx.TransportError | _ServerError)


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

    async def cancel(self, idempotency_key: str) -> None:
        """Cancel the charge made under `idempotency_key`: refunded if made, never made if not yet.

        One attempt: `Cancellations` retries it for as long as the provider needs.
        """
        response = await self._http.post("/cancellations", headers={"Idempotency-Key": idempotency_key})
        if response.status_code >= 500:
            raise _ServerError(f"payments API answered {response.status_code} to a cancellation")
        if response.status_code != 200:
            raise PaymentUnavailable(f"payments API refused a cancellation ({response.status_code})")

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


@dataclass(slots=True)
class PendingCharge:
    """One order's charge: its Idempotency-Key, and whether it was sent (from then on it may exist)."""

    key: str
    sent: bool = False


class Cancellations:
    """Charges to undo, each cancelled in the background until the provider confirms.

    A payments provider finishes what it received. When a charge's answer is lost, the app stops waiting
    for it, or the order fails after it (the database gone at commit), the customer may have paid for an
    order that was rolled back. Cancelling by Idempotency-Key undoes it whichever happened: a charge made
    under the key is refunded, one still on its way is never made. The cancellation must reach the
    provider, which may be the very thing that is down, so it is retried with capped back-off long after
    the failed order was answered. A crash loses what is pending (a durable outbox table would close that
    gap, as for notifications); on shutdown the keys left are logged, for an operator to cancel.
    """

    def __init__(self, payments: PaymentsClient, settings: Settings) -> None:
        self._payments = payments
        self._settings = settings
        self._pending: dict[str, asyncio.Task[None]] = {}  # kept: the loop holds tasks only weakly

    @contextlib.asynccontextmanager
    async def on_failure(self) -> AsyncIterator[PendingCharge]:
        """A fresh key for one order's charge; if the block fails after the charge was sent, it is cancelled."""
        charge = PendingCharge(str(uuid.uuid4()))
        try:
            yield charge
        except BaseException:
            if charge.sent:
                self.cancel(charge.key)
            raise

    def cancel(self, idempotency_key: str) -> None:
        """Cancel the charge under this key, without making the caller wait."""
        if idempotency_key in self._pending:
            return
        if len(self._pending) >= self._settings.cancel_max_pending:
            log.error("too many cancellations pending; cancel the charge under key %s by hand", idempotency_key)
            return
        task = asyncio.create_task(self._until_confirmed(idempotency_key), name=f"cancel-{idempotency_key}")
        self._pending[idempotency_key] = task
        task.add_done_callback(lambda _: self._pending.pop(idempotency_key, None))

    async def drain(self) -> None:
        """Give pending cancellations the shutdown drain timeout, then log the keys left and stop."""
        if not self._pending:
            return
        tasks = list(self._pending.values())
        _, left = await asyncio.wait(tasks, timeout=self._settings.shutdown_drain_timeout_s)
        if left:
            keys = sorted(key for key, task in self._pending.items() if task in left)
            log.error("shutdown: charges still to cancel, by Idempotency-Key: %s", ", ".join(keys))
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)

    async def _until_confirmed(self, idempotency_key: str) -> None:
        settings = self._settings
        try:
            async for attempt in stamina.retry_context(
                on=_cancel_again,
                attempts=None,
                timeout=settings.cancel_give_up_after_s,
                wait_initial=settings.cancel_backoff_initial_s,
                wait_max=settings.cancel_backoff_max_s,
                wait_jitter=settings.cancel_backoff_jitter_s,
            ):
                with attempt:
                    await self._payments.cancel(idempotency_key)
        except Exception:
            log.exception("the charge under key %s was not cancelled: cancel it by hand", idempotency_key)
        else:
            log.info("cancelled the charge under key %s", idempotency_key)
