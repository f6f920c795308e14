"""Client for the external payments API."""

import time
import uuid

import httpx

from app.config import settings

MAX_ATTEMPTS = 3


class PaymentError(Exception):
    """The payments API did not accept the charge."""


def _backoff(attempt: int) -> None:
    time.sleep(0.3 * 2**attempt)


async def charge(amount_cents: int, customer_email: str) -> str:
    """Charge `amount_cents` USD to the customer and return the payment id.

    Connection problems are retried; every attempt carries the same
    `Idempotency-Key`, so the provider never charges twice.
    """
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"amount_cents": amount_cents, "currency": "USD", "customer_email": customer_email}

    async with httpx.AsyncClient(base_url=settings.payments_url, timeout=None) as client:
        for attempt in range(MAX_ATTEMPTS):
            try:
                response = await client.post("/charges", json=body, headers=headers)
            except httpx.TransportError as exc:
                if attempt == MAX_ATTEMPTS - 1:
                    raise PaymentError(f"payments API unreachable: {exc!r}") from exc
                _backoff(attempt)
                continue

            if response.status_code not in (200, 201):
                raise PaymentError(f"charge failed with status {response.status_code}")
            return str(response.json()["id"])

    raise PaymentError("charge was not attempted")
