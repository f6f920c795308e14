"""App factory and lifespan: the pool, the HTTP client and the confirmations live only in between."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

import asyncpg
import httpx
from fastapi import Depends, FastAPI, Header, HTTPException, Path, Query, Request

from app import store
from app.auth import check_key
from app.config import Config
from app.notify import Confirmations
from app.payments import Gateway
from app.schemas import Converted, CustomerOrders, NewOrder, Order, Product, Products
from app.telemetry import instrument

BigInt = Annotated[int, Path(ge=-(2**63), le=2**63 - 1)]


@dataclass
class Services:
    pool: asyncpg.Pool
    gateway: Gateway
    confirmations: Confirmations


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    config = Config.from_env()
    pool = await asyncpg.create_pool(
        config.database_url, min_size=config.pool_min, max_size=config.pool_max, timeout=5, command_timeout=10
    )
    http = httpx.AsyncClient(
        base_url=config.payments_url,
        timeout=httpx.Timeout(3.0),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
    )
    confirmations = Confirmations(http, config.notify_attempts)
    app.state.services = Services(pool, Gateway(http, config), confirmations)
    try:
        yield
    finally:
        await confirmations.flush(config.drain_s)
        await app.state.services.gateway.flush(config.drain_s)
        await http.aclose()
        await pool.close()


def services(request: Request) -> Services:
    found: Services | None = getattr(request.app.state, "services", None)
    if found is None:
        raise HTTPException(503, "Service not started")
    return found


Svc = Annotated[Services, Depends(services)]
app = FastAPI(title="Orders API", version="1.0.0", lifespan=lifespan)
instrument(app)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/products/{product_id}")
async def get_product(product_id: BigInt, svc: Svc) -> Product:
    row = await svc.pool.fetchrow(f"SELECT {store.PRODUCT_COLUMNS} FROM products WHERE id = $1", product_id)
    if row is None:
        raise HTTPException(404, "Product not found")
    return Product(**dict(row))


@app.get("/products")
async def list_products(
    svc: Svc,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> Products:
    where, args = ("WHERE category = $3", [category]) if category is not None else ("", [])
    rows = await svc.pool.fetch(
        f"SELECT {store.PRODUCT_COLUMNS} FROM products {where} ORDER BY id LIMIT $1 OFFSET $2", limit, offset, *args
    )
    return Products(items=[Product(**dict(row)) for row in rows], limit=limit, offset=offset)


@app.post("/orders", status_code=201, response_model_exclude_none=True)
async def create_order(
    body: NewOrder, svc: Svc, x_api_key: Annotated[str | None, Header()] = None
) -> Order:
    key_name = await check_key(svc.pool, x_api_key)
    created = await store.place(svc.pool, svc.gateway, body, key_name)
    svc.confirmations.send(created.id, created.customer_email, created.total_cents)
    return created


@app.get("/orders/{order_id}", response_model_exclude_none=True)
async def get_order(
    order_id: BigInt, svc: Svc, currency: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None
) -> Order:
    found = await store.order(svc.pool, order_id)
    if currency is not None:
        rate = Decimal(1) if currency == "USD" else await svc.gateway.rate(currency)
        total = (Decimal(found.total_cents) * rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        found.converted = Converted(currency=currency, rate=str(rate), total=str(total))
    return found


@app.get("/customers/{email}/orders", response_model_exclude_none=True)
async def customer_orders(email: str, svc: Svc) -> CustomerOrders:
    return CustomerOrders(customer_email=email, orders=await store.customer_orders(svc.pool, email))
