"""The orders API: plain `def` endpoints, which FastAPI runs in its threadpool; /health stays on the loop."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, EmailStr, Field, conint, model_validator

from app.database import Busy, Cursor, Database
from app.mailer import Mailer
from app.metrics import TimedRoute
from app.settings import Settings
from app.upstream import Upstream, Voids


@dataclass
class Runtime:
    settings: Settings
    db: Database
    upstream: Upstream
    voids: Voids
    mailer: Mailer


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = Settings()  # from the environment
    # Opening the pool's connections blocks: do it in a thread, not on the event loop.
    db = await asyncio.to_thread(Database, settings.database_url, settings.db_max_connections, settings.db_wait_s)
    client = httpx.Client(
        base_url=settings.payments_url.rstrip("/"),
        timeout=httpx.Timeout(settings.payments_timeout_s),
        limits=httpx.Limits(max_connections=40, max_keepalive_connections=20),
    )
    mailer = Mailer(client, settings.mail_workers, settings.mail_attempts)
    voids = Voids(client)
    voids.start()
    app.state.runtime = Runtime(settings, db, Upstream(client, settings), voids, mailer)
    try:
        yield
    finally:
        # Blocking calls (joins, socket closes): off the event loop, in order: mail drained, then closed.
        def shut_down() -> None:
            mailer.stop(settings.shutdown_drain_s)
            voids.stop(settings.shutdown_drain_s)
            client.close()
            db.close()

        await asyncio.to_thread(shut_down)


def runtime(request: Request) -> Runtime:
    found: Runtime | None = getattr(request.app.state, "runtime", None)
    if found is None:
        raise HTTPException(503, "not started")
    return found


Rt = Annotated[Runtime, Depends(runtime)]
BigInt = Annotated[int, Path(ge=-(2**63), le=2**63 - 1)]


class OrderLine(BaseModel):
    product_id: conint(strict=True, ge=-(2**63), le=2**63 - 1)  # type: ignore[valid-type]
    quantity: conint(strict=True, ge=1, le=1000)  # type: ignore[valid-type]


class OrderRequest(BaseModel):
    customer_email: EmailStr
    items: list[OrderLine] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _distinct(self) -> OrderRequest:
        if len({line.product_id for line in self.items}) < len(self.items):
            raise ValueError("duplicate product_id")
        return self


def authorised(rt: Rt, x_api_key: Annotated[str | None, Header()] = None) -> str:
    """A `def` dependency: the threadpool runs the PBKDF2, never the event loop."""
    prefix, dot, _ = (x_api_key or "").partition(".")
    row = None
    if prefix and dot:
        with rt.db.cursor() as cur:
            cur.execute(
                "SELECT name, salt, hash, iterations FROM api_keys WHERE prefix = %s AND revoked_at IS NULL", (prefix,)
            )
            row = cur.fetchone()
    if row is None or not hmac.compare_digest(
        hashlib.pbkdf2_hmac("sha256", (x_api_key or "").encode(), bytes(row["salt"]), row["iterations"]),
        bytes(row["hash"]),
    ):
        raise HTTPException(401, "invalid API key")
    return str(row["name"])


def _order_json(order: dict[str, Any], email: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    created: datetime = order["created_at"]
    return {
        "id": order["id"], "customer_email": email, "status": order["status"], "currency": order["currency"],
        "total_cents": order["total_cents"], "payment_id": order["payment_id"], "created_at": created.isoformat(),
        "items": [{k: i[k] for k in ("product_id", "quantity", "unit_price_cents")} for i in items],
    }


def orders_with_items(where: str) -> str:
    """One statement for any number of orders: each order row carries its items as a JSON array."""
    return f"""
    SELECT o.id, o.status, o.currency, o.total_cents, o.payment_id, o.created_at, c.email,
           coalesce((SELECT json_agg(json_build_object('product_id', i.product_id, 'quantity', i.quantity,
                                                       'unit_price_cents', i.unit_price_cents) ORDER BY i.id)
                     FROM order_items i WHERE i.order_id = o.id), '[]') AS items
    FROM orders o JOIN customers c ON c.id = o.customer_id {where}
    """


router = APIRouter(route_class=TimedRoute)


@router.get("/products/{product_id}")
def get_product(product_id: BigInt, rt: Rt) -> dict[str, Any]:
    with rt.db.cursor() as cur:
        cur.execute("SELECT id, sku, name, category, price_cents, stock FROM products WHERE id = %s", (product_id,))
        row = cur.fetchone()
    if row is None:
        raise HTTPException(404, "product not found")
    return dict(row)


@router.get("/products")
def list_products(
    rt: Rt,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> dict[str, Any]:
    where = "WHERE category = %(category)s" if category is not None else ""
    with rt.db.cursor() as cur:
        cur.execute(
            f"SELECT id, sku, name, category, price_cents, stock FROM products {where}"
            " ORDER BY id LIMIT %(limit)s OFFSET %(offset)s",
            {"category": category, "limit": limit, "offset": offset},
        )
        rows = cur.fetchall()
    return {"items": [dict(r) for r in rows], "limit": limit, "offset": offset}


def _take(cur: Cursor, product_id: int, quantity: int) -> int:
    cur.execute(
        "UPDATE products SET stock = stock - %s WHERE id = %s AND stock >= %s RETURNING price_cents",
        (quantity, product_id, quantity),
    )
    row = cur.fetchone()
    if row is not None:
        return int(row["price_cents"])
    cur.execute("SELECT 1 FROM products WHERE id = %s", (product_id,))
    if cur.fetchone() is None:
        raise HTTPException(404, f"product {product_id} not found")
    raise HTTPException(409, f"not enough stock for product {product_id}")


@router.post("/orders", status_code=201)
def create_order(body: OrderRequest, rt: Rt, key_name: Annotated[str, Depends(authorised)]) -> dict[str, Any]:
    email = str(body.customer_email)
    key, sent = rt.upstream.new_key(), False
    try:
        with rt.db.transaction() as cur:
            cur.execute(
                "INSERT INTO customers (email) VALUES (%s) ON CONFLICT (email) DO NOTHING RETURNING id", (email,)
            )
            created = cur.fetchone()
            if created is None:
                cur.execute("SELECT id FROM customers WHERE email = %s", (email,))
                created = cur.fetchone()
            assert created is not None
            items = [
                {"product_id": line.product_id, "quantity": line.quantity,
                 "unit_price_cents": _take(cur, line.product_id, line.quantity)}
                for line in sorted(body.items, key=lambda line: line.product_id)
            ]  # fmt: skip
            total = sum(i["quantity"] * i["unit_price_cents"] for i in items)
            cur.execute(
                "INSERT INTO orders (customer_id, status, currency, total_cents) VALUES (%s, 'paid', 'USD', %s)"
                " RETURNING id, status, currency, total_cents, created_at",
                (created["id"], total),
            )
            order = dict(cur.fetchone() or {})
            for item in items:
                cur.execute(
                    "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)"
                    " VALUES (%s, %s, %s, %s)",
                    (order["id"], item["product_id"], item["quantity"], item["unit_price_cents"]),
                )
            sent = True  # from here on the provider may charge, whatever we hear back
            order["payment_id"] = rt.upstream.charge(total, email, key)
            cur.execute("UPDATE orders SET payment_id = %s WHERE id = %s", (order["payment_id"], order["id"]))
            cur.execute(
                "INSERT INTO audit_log (order_id, action, detail) VALUES (%s, 'order.created', %s)",
                (
                    order["id"],
                    json.dumps({"api_key": key_name, "total_cents": total, "payment_id": order["payment_id"]}),
                ),
            )
    except BaseException:
        if sent:
            rt.voids.add(key)  # the order is rolled back: its charge must go too
        raise
    rt.mailer.post(order["id"], email, total)
    return _order_json(order, email, items)


@router.get("/orders/{order_id}")
def get_order(
    order_id: BigInt, rt: Rt, currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None
) -> dict[str, Any]:
    with rt.db.cursor() as cur:
        cur.execute(orders_with_items("WHERE o.id = %s"), (order_id,))
        row = cur.fetchone()
    if row is None:
        raise HTTPException(404, "order not found")
    result = _order_json(row, row["email"], row["items"])
    if currency is not None:
        rate = Decimal(1) if currency == "USD" else rt.upstream.rate(currency)
        total = (Decimal(row["total_cents"]) * rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        result["converted"] = {"currency": currency, "rate": str(rate), "total": str(total)}
    return result


@router.get("/customers/{email}/orders")
def customer_orders(email: str, rt: Rt) -> dict[str, Any]:
    with rt.db.cursor() as cur:
        cur.execute("SELECT id FROM customers WHERE email = %s", (email,))
        customer = cur.fetchone()
        if customer is None:
            raise HTTPException(404, "customer not found")
        cur.execute(
            orders_with_items("WHERE o.customer_id = %s ORDER BY o.created_at DESC, o.id DESC"), (customer["id"],)
        )
        rows = cur.fetchall()
    return {"customer_email": email, "orders": [_order_json(r, email, r["items"]) for r in rows]}


@router.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _busy(_: Request, __: Exception) -> JSONResponse:
    return JSONResponse({"detail": "database busy"}, status_code=503)


app = FastAPI(title="Orders API", version="1.0.0", lifespan=lifespan)
app.add_exception_handler(Busy, _busy)


@app.get("/health")
async def health() -> dict[str, str]:
    """On the event loop: answers even when every worker thread waits on the database."""
    return {"status": "ok"}


app.include_router(router)
