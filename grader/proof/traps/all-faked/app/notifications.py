"""Order confirmations, delivered through the payments provider's notification endpoint."""

import asyncio
import logging

import httpx

from app.config import settings

log = logging.getLogger(__name__)


async def _send(order_id: int, customer_email: str, total_cents: int) -> None:
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.post(
                f"{settings.payments_url}/notifications",
                json={"order_id": order_id, "customer_email": customer_email, "total_cents": total_cents},
            )
            response.raise_for_status()
    except httpx.HTTPError:
        log.exception("confirmation of order %s failed", order_id)


def notify_order_created(order_id: int, customer_email: str, total_cents: int) -> None:
    """Send the order confirmation in the background: the customer does not wait for it."""
    asyncio.create_task(_send(order_id, customer_email, total_cents))
