"""A customer's order history, cached briefly: the account page is reloaded far more than people order."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.cache import HistoryCache
from app.deps import ReadSessionDep
from app.orders import load_customer_orders
from app.schemas import CustomerOrdersPublic

router = APIRouter(prefix="/customers", tags=["customers"])


@router.get("/{email}/orders")
async def customer_orders(email: str, session: ReadSessionDep, request: Request) -> CustomerOrdersPublic:
    cache: HistoryCache = request.app.state.history_cache
    page = cache.get(email)
    if page is None:
        page = CustomerOrdersPublic(customer_email=email, orders=await load_customer_orders(session, email))
        cache.put(email, page)
    return page
