"""Currency conversion of order totals, with the provider's rates cached per currency.

Conversion is plain arithmetic, so it is a sync helper; the rate itself comes from the payments
client (async), bridged once per currency and then served from memory for `RATE_TTL_S`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from decimal import ROUND_HALF_UP, Decimal

import httpx

from app.errors import PaymentUnavailable, UnknownCurrency
from app.payments import PaymentsClient

CENT = Decimal("0.01")
RATE_TTL_S = 600.0

_rates: dict[str, tuple[Decimal, float]] = {}  # currency -> (rate, expiry on the monotonic clock)


def _fetch_sync(payments_url: str, currency: str) -> Decimal:
    response = httpx.get(f"{payments_url}/rates/{currency}", timeout=5.0)
    if response.status_code == 404:
        raise UnknownCurrency(f"unknown currency: {currency}")
    if response.status_code != 200:
        raise PaymentUnavailable(f"payments API answered {response.status_code}")
    return Decimal(str(response.json()["rate"]))


def _rate(payments: PaymentsClient, payments_url: str, currency: str) -> Decimal:
    now = time.monotonic()
    cached = _rates.get(currency)
    if cached is not None and cached[1] > now:
        return cached[0]
    loop = asyncio.get_event_loop()
    future = asyncio.run_coroutine_threadsafe(payments.get_rate(currency), loop)
    try:
        rate = future.result(timeout=1.0)
    except concurrent.futures.TimeoutError:
        future.cancel()
        rate = _fetch_sync(payments_url, currency)
    _rates[currency] = (rate, now + RATE_TTL_S)
    return rate


def convert_total(
    payments: PaymentsClient, payments_url: str, total_cents: int, currency: str
) -> tuple[Decimal, Decimal]:
    """Convert a USD amount in cents to `currency`; returns ``(rate, total)``."""
    rate = Decimal(1) if currency == "USD" else _rate(payments, payments_url, currency)
    total = (Decimal(total_cents) * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return rate, total
