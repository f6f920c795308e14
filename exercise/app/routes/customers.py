from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import get_session
from app.models import Customer, Order
from app.schemas import CustomerOrders, OrderOut

router = APIRouter(prefix="/customers", tags=["customers"])


@router.get("/{email}/orders", response_model=CustomerOrders)
async def list_customer_orders(email: str, session: Session = Depends(get_session)) -> CustomerOrders:
    """A customer's orders with their items, newest first."""
    customer = session.scalars(select(Customer).where(Customer.email == email)).first()
    if customer is None:
        raise HTTPException(status_code=404, detail="Customer not found")

    orders = session.scalars(
        select(Order)
        .where(Order.customer_id == customer.id)
        .order_by(Order.created_at.desc(), Order.id.desc())
    ).all()
    return CustomerOrders(
        customer_email=customer.email,
        orders=[OrderOut.from_order(order, customer.email) for order in orders],
    )
