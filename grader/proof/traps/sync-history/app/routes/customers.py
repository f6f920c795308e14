"""A customer's order history.

History pages are read-mostly reporting queries, so they go through a small plain SQLAlchemy engine of
their own (psycopg2): the ORM's lazy loading works there without the async restrictions.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from app.orders import load_customer_orders_sync
from app.schemas import CustomerOrdersPublic

router = APIRouter(prefix="/customers", tags=["customers"])


@router.get("/{email}/orders")
async def customer_orders(email: str, request: Request) -> CustomerOrdersPublic:
    with Session(request.app.state.history_engine) as session:
        orders = load_customer_orders_sync(session, email)
    return CustomerOrdersPublic(customer_email=email, orders=orders)
