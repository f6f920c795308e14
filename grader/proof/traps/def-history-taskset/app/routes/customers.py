"""A customer's order history.

A plain `def` endpoint on the app's small sync (psycopg2) engine: FastAPI runs it in its threadpool,
so the event loop never waits on these queries.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from app.orders import load_customer_orders_sync
from app.schemas import CustomerOrdersPublic

router = APIRouter(prefix="/customers", tags=["customers"])


@router.get("/{email}/orders")
def customer_orders(email: str, request: Request) -> CustomerOrdersPublic:
    with Session(request.app.state.history_engine) as session:
        return CustomerOrdersPublic(customer_email=email, orders=load_customer_orders_sync(session, email))
