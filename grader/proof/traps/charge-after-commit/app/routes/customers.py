"""A customer's order history."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import ReadSessionDep
from app.orders import load_customer_orders
from app.schemas import CustomerOrdersPublic

router = APIRouter(prefix="/customers", tags=["customers"])


@router.get("/{email}/orders")
async def customer_orders(email: str, session: ReadSessionDep) -> CustomerOrdersPublic:
    return CustomerOrdersPublic(customer_email=email, orders=await load_customer_orders(session, email))
