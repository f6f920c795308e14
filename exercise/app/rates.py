"""Currency conversion using the payments provider's exchange rates."""

import asyncio
import concurrent.futures
from decimal import ROUND_HALF_UP, Decimal

import httpx

from app.config import settings

CENT = Decimal("0.01")

client = httpx.AsyncClient(base_url=settings.payments_url, timeout=5.0)


class UnknownCurrencyError(Exception):
    """The payments provider has no rate for this currency."""


def _parse_rate(currency: str, response: httpx.Response) -> Decimal:
    if response.status_code == 404:
        raise UnknownCurrencyError(currency)
    response.raise_for_status()
    return Decimal(str(response.json()["rate"]))


async def fetch_rate(currency: str) -> Decimal:
    """The USD → `currency` exchange rate."""
    response = await client.get(f"/rates/{currency}")
    return _parse_rate(currency, response)


def convert_total(total_cents: int, currency: str) -> tuple[Decimal, Decimal]:
    """Convert a USD amount in cents to `currency`; returns ``(rate, total)``."""
    if currency == "USD":
        rate = Decimal(1)
    else:
        loop = asyncio.get_event_loop()
        future = asyncio.run_coroutine_threadsafe(fetch_rate(currency), loop)
        try:
            rate = future.result(timeout=1.0)
        except concurrent.futures.TimeoutError:
            future.cancel()
            response = httpx.get(f"{settings.payments_url}/rates/{currency}", timeout=5)
            rate = _parse_rate(currency, response)

    total = (Decimal(total_cents) * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return rate, total
