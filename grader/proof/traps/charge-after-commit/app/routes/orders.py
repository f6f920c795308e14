"""Orders: placing one (authenticated) and reading one, optionally converted to another currency."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.deps import ApiKeyDep, NotifierDep, OrderSlotsDep, PaymentsDep, ReadSessionDep, SessionDep
from app.notifications import Notification
from app.orders import load_order, place_order
from app.schemas import BigIntId, ConvertedTotal, CurrencyCode, OrderCreate, OrderPublic

router = APIRouter(prefix="/orders", tags=["orders"])

_CENT = Decimal("0.01")


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_order(
    *,
    body: OrderCreate,
    api_key: ApiKeyDep,
    session: SessionDep,
    payments: PaymentsDep,
    notifier: NotifierDep,
    order_slots: OrderSlotsDep,
) -> OrderPublic:
    # At most `orders_max_concurrency` orders hold a connection while the payments API answers, so a
    # hanging provider cannot take the whole pool from the reads.
    async with order_slots.slot():
        order = await place_order(session, payments, body, api_key)
    # Committed: confirm without making the customer wait for (or fail on) the notification.
    notifier.enqueue(Notification(order.id, order.customer_email, order.total_cents))
    return order


@router.get("/{order_id}")
async def get_order(
    order_id: BigIntId,
    session: ReadSessionDep,
    payments: PaymentsDep,
    currency: Annotated[CurrencyCode | None, Query(description="ISO 4217 code, e.g. EUR")] = None,
) -> OrderPublic:
    order = await load_order(session, order_id)
    if currency is None:
        return order
    # Release the connection before the (possibly slow) rate lookup.
    await session.close()
    rate = Decimal(1) if currency == "USD" else await payments.get_rate(currency)
    total = (Decimal(order.total_cents) * rate / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
    converted = ConvertedTotal(currency=currency, rate=str(rate), total=str(total))
    return order.model_copy(update={"converted": converted})
