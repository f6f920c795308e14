"""Wiring: the lifespan owns the pool, the HTTP client and the hashing threads; routes reach them via state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

import httpx
from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Header, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette_exporter import PrometheusMiddleware, handle_metrics

from app import repo
from app.env import Env
from app.keys import KeyChecker
from app.models import ConversionOut, HistoryOut, OrderIn, OrderOut, PageOut, ProductOut
from app.payments import PaymentsApi, confirm
from app.pool import Pool, PoolTimeout


@dataclass
class State:
    pool: Pool
    http: httpx.AsyncClient
    payments: PaymentsApi
    keys: KeyChecker


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    env = Env.load()
    pool = Pool(env.database_url, env.pool_size, env.pool_wait_s)
    http = httpx.AsyncClient(
        base_url=env.payments_url.rstrip("/"),
        timeout=httpx.Timeout(env.payments_call_timeout_s, pool=1.0),
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
    )
    hashing = ThreadPoolExecutor(max_workers=env.hash_threads, thread_name_prefix="pbkdf2")
    keys = KeyChecker(pool, hashing, env.key_cache_ttl_s)
    payments = PaymentsApi(http, env.charge_deadline_s)
    app.state.shop = State(pool, http, payments, keys)
    sweeper = asyncio.create_task(payments.sweep_forever())
    try:
        yield  # uvicorn finishes in-flight requests, their background confirmations included, before this returns
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(3.0):
                await payments.sweep()  # the failed orders of the last requests
        if payments.left():
            logging.getLogger(__name__).error("charges still to cancel: %s", ", ".join(payments.left()))
        hashing.shutdown()
        await http.aclose()
        await pool.close()


def shop(request: Request) -> State:
    state: State | None = getattr(request.app.state, "shop", None)
    if state is None:
        raise HTTPException(503, "starting up")
    return state


Shop = Annotated[State, Depends(shop)]
Id = Annotated[int, Path(ge=-(2**63), le=2**63 - 1)]
router = APIRouter()


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/products/{product_id}")
async def read_product(product_id: Id, s: Shop) -> ProductOut:
    return await repo.product(s.pool, product_id)


@router.get("/products")
async def read_products(
    s: Shop,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> PageOut:
    return await repo.products(s.pool, category, limit, offset)


@router.post("/orders", status_code=201, response_model_exclude_none=True)
async def place_order(
    new: OrderIn, s: Shop, background: BackgroundTasks, x_api_key: Annotated[str | None, Header()] = None
) -> OrderOut:
    key_name = await s.keys.name_of(x_api_key)
    created = await repo.create(s.pool, s.payments, new, key_name)
    background.add_task(confirm, s.http, created.id, created.customer_email, created.total_cents)
    return created


@router.get("/orders/{order_id}", response_model_exclude_none=True)
async def read_order(
    order_id: Id, s: Shop, currency: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None
) -> OrderOut:
    found = await repo.order(s.pool, order_id)
    if currency is not None:
        rate = Decimal(1) if currency == "USD" else await s.payments.rate(currency)
        total = (found.total_cents * rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        found.converted = ConversionOut(currency=currency, rate=str(rate), total=str(total))
    return found


@router.get("/customers/{email}/orders", response_model_exclude_none=True)
async def read_history(email: str, s: Shop) -> HistoryOut:
    return HistoryOut(customer_email=email, orders=await repo.history(s.pool, email))


def _pool_timeout(_: Request, __: Exception) -> JSONResponse:
    return JSONResponse({"detail": "busy, try again"}, status_code=503, headers={"Retry-After": "1"})


app = FastAPI(title="Orders API", version="1.0.0", lifespan=lifespan)
app.add_middleware(PrometheusMiddleware, app_name="orders", prefix="orders_http", group_paths=True)
app.add_route("/metrics", handle_metrics)
app.add_exception_handler(PoolTimeout, _pool_timeout)
app.include_router(router)
