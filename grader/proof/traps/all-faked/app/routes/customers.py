from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import get_session
from app.models import Customer, Order
from app.schemas import CustomerOrders, OrderOut

router = APIRouter(prefix="/customers", tags=["customers"])


# A customer's history page, by e-mail: reloaded far more often than people order. Dropped when
# the customer places an order.
history_cache: dict[str, CustomerOrders] = {}


@router.get("/{email}/orders", response_model=CustomerOrders)
async def list_customer_orders(email: str, session: Session = Depends(get_session)) -> CustomerOrders:
    """A customer's orders with their items, newest first."""
    if email in history_cache:
        return history_cache[email]
    customer = session.scalars(select(Customer).where(Customer.email == email)).first()
    if customer is None:
        raise HTTPException(status_code=404, detail="Customer not found")

    orders = session.scalars(
        select(Order)
        .where(Order.customer_id == customer.id)
        .order_by(Order.created_at.desc(), Order.id.desc())
    ).all()
    page = CustomerOrders(
        customer_email=customer.email,
        orders=[OrderOut.from_order(order, customer.email) for order in orders],
    )
    history_cache[email] = page
    return page
