"""Order use cases: placing an order (stock committed first, charged after), and loading orders."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.errors import InsufficientStock, NotFound
from app.models import AuditLog, Customer, Order, OrderItem, Product
from app.payments import PaymentsClient
from app.schemas import OrderCreate, OrderItemPublic, OrderPublic
from app.security import VerifiedKey

# Statements run on most requests, built once with bind parameters: no per-request query building.
_ORDER_WITH_EMAIL = (
    select(Order, Customer.email)
    .join(Order.customer)
    .where(Order.id == bindparam("order_id"))
    .options(selectinload(Order.items))
)
_CUSTOMER_ID = select(Customer.id).where(Customer.email == bindparam("email"))
_CUSTOMER_ORDERS = (
    select(Order)
    .where(Order.customer_id == bindparam("customer_id"))
    .order_by(Order.created_at.desc(), Order.id.desc())
    .options(selectinload(Order.items))  # one IN query for every order's items: no N+1
)
# Bulk UPDATEs through the session: nothing in the identity map to keep in step, so skip that work.
_NO_SYNC = {"synchronize_session": False}


async def place_order(
    session: AsyncSession, payments: PaymentsClient, body: OrderCreate, api_key: VerifiedKey
) -> OrderPublic:
    """Reserve stock and record the order, commit, then charge it and audit it.

    No row lock or connection is held while the payments API answers: the stock is committed first, and
    a failed charge gives it back (the order and its items deleted) in a transaction of its own.
    """
    # Products in id order: two orders locking the same rows always lock them in the same order,
    # so they queue behind each other instead of deadlocking.
    wanted = sorted(body.items, key=lambda item: item.product_id)
    async with session.begin():
        customer_id = await _customer_id(session, body.customer_email)
        items: list[OrderItemPublic] = []
        for item in wanted:
            price = await _take_stock(session, item.product_id, item.quantity)
            items.append(
                OrderItemPublic(product_id=item.product_id, quantity=item.quantity, unit_price_cents=price)
            )
        total_cents = sum(item.quantity * item.unit_price_cents for item in items)
        order_id, created_at = (
            await session.execute(
                insert(Order)
                .values(customer_id=customer_id, status="paid", currency="USD", total_cents=total_cents)
                .returning(Order.id, Order.created_at)
            )
        ).one()
        await session.execute(
            insert(OrderItem), [{"order_id": order_id, **item.model_dump()} for item in items]
        )
    try:
        # The key is fresh per order and reused by every retry of this charge.
        payment_id = await payments.charge(
            total_cents, body.customer_email, idempotency_key=str(uuid.uuid4())
        )
    except BaseException:
        await _give_back(session, order_id, items)
        raise
    async with session.begin():
        await session.execute(
            update(Order).where(Order.id == order_id).values(payment_id=payment_id),
            execution_options=_NO_SYNC,
        )
        await session.execute(
            insert(AuditLog).values(
                order_id=order_id,
                action="order.created",
                detail={"total_cents": total_cents, "payment_id": payment_id, "api_key": api_key.prefix},
            )
        )
    return OrderPublic(
        id=order_id, customer_email=body.customer_email, status="paid", currency="USD",
        total_cents=total_cents, payment_id=payment_id, created_at=created_at, items=items,
    )


async def _give_back(session: AsyncSession, order_id: int, items: list[OrderItemPublic]) -> None:
    """Undo an order whose charge failed: its stock back, the order and its items gone."""
    async with session.begin():
        for item in sorted(items, key=lambda item: item.product_id):
            await session.execute(
                update(Product).where(Product.id == item.product_id).values(stock=Product.stock + item.quantity),
                execution_options=_NO_SYNC,
            )
        await session.execute(delete(OrderItem).where(OrderItem.order_id == order_id), execution_options=_NO_SYNC)
        await session.execute(delete(Order).where(Order.id == order_id), execution_options=_NO_SYNC)


async def _customer_id(session: AsyncSession, email: str) -> int:
    """The customer's id, creating the customer on first order.

    A plain lookup first: a returning customer's row is then never locked, so their concurrent orders
    don't queue behind each other's payment call (ON CONFLICT DO UPDATE would lock it).
    """
    customer_id = await session.scalar(_CUSTOMER_ID, {"email": email})
    if customer_id is None:
        customer_id = await session.scalar(
            pg_insert(Customer).values(email=email).on_conflict_do_nothing(index_elements=[Customer.email])
            .returning(Customer.id)
        )
    if customer_id is None:  # a concurrent order created this customer first; it is committed now
        customer_id = await session.scalar(_CUSTOMER_ID, {"email": email})
    if customer_id is None:
        raise RuntimeError(f"customer {email} vanished")
    return customer_id


async def _take_stock(session: AsyncSession, product_id: int, quantity: int) -> int:
    """Decrement stock atomically and return the unit price; 404 unknown product, 409 short stock."""
    price: int | None = await session.scalar(
        update(Product)
        .where(Product.id == product_id, Product.stock >= quantity)
        .values(stock=Product.stock - quantity)
        .returning(Product.price_cents),
        execution_options=_NO_SYNC,
    )
    if price is not None:
        return price
    exists = await session.scalar(select(Product.id).where(Product.id == product_id))
    if exists is None:
        raise NotFound(f"product {product_id} not found")
    raise InsufficientStock(f"not enough stock for product {product_id}")


async def load_order(session: AsyncSession, order_id: int) -> OrderPublic:
    """One order with its items (two queries: the order with its customer's e-mail, then the items)."""
    row = (await session.execute(_ORDER_WITH_EMAIL, {"order_id": order_id})).one_or_none()
    if row is None:
        raise NotFound(f"order {order_id} not found")
    order, email = row
    return OrderPublic.from_order(order, email)


async def load_customer_orders(session: AsyncSession, email: str) -> list[OrderPublic]:
    """A customer's orders, newest first, in a constant three queries however many orders there are."""
    customer_id = await session.scalar(_CUSTOMER_ID, {"email": email})
    if customer_id is None:
        raise NotFound(f"customer {email} not found")
    orders = await session.scalars(_CUSTOMER_ORDERS, {"customer_id": customer_id})
    return [OrderPublic.from_order(order, email) for order in orders]
