"""Orders: placing one (authenticated) and reading one, optionally converted to another currency."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.deps import ApiKeyDep, NotifierDep, OrderSlotsDep, PaymentsDep, ReadSessionDep, SessionDep, SettingsDep
from app.notifications import Notification
from app.orders import load_order, place_order
from app.rates import convert_total
from app.schemas import BigIntId, ConvertedTotal, CurrencyCode, OrderCreate, OrderPublic

router = APIRouter(prefix="/orders", tags=["orders"])


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
    settings: SettingsDep,
    currency: Annotated[CurrencyCode | None, Query(description="ISO 4217 code, e.g. EUR")] = None,
) -> OrderPublic:
    order = await load_order(session, order_id)
    if currency is None:
        return order
    # Release the connection before the (possibly slow) rate lookup.
    await session.close()
    rate, total = convert_total(payments, settings.payments_url, order.total_cents, currency)
    converted = ConvertedTotal(currency=currency, rate=str(rate), total=str(total))
    return order.model_copy(update={"converted": converted})
