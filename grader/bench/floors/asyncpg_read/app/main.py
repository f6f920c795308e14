"""The stack's limit for the product read: FastAPI and a raw asyncpg pool, one prepared query, no ORM."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import orjson
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response

QUERY = "SELECT id, sku, name, category, price_cents, stock FROM products WHERE id = $1"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=20, max_size=20) as pool:
        app.state.pool = pool
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@app.get("/products/{product_id}")
async def product(product_id: int, request: Request) -> Response:
    row = await request.app.state.pool.fetchrow(QUERY, product_id)
    if row is None:
        raise HTTPException(404, detail="not found")
    return Response(orjson.dumps(dict(row)), media_type="application/json")
