"""Order confirmations, delivered through the payments provider's notification endpoint."""

import httpx

from app.config import settings


async def notify_order_created(order_id: int, customer_email: str, total_cents: int) -> None:
    """Send the order confirmation for a newly created order."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        response = await client.post(
            f"{settings.payments_url}/notifications",
            json={"order_id": order_id, "customer_email": customer_email, "total_cents": total_cents},
        )
        response.raise_for_status()
