"""The framework's ceiling: FastAPI answering a constant product, touching nothing."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

PRODUCT = b'{"id":1,"sku":"SKU-000001","name":"Eco Garden #1","category":"garden","price_cents":1999,"stock":500}'

app = FastAPI()


@app.get("/health")
async def health() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@app.get("/products/{product_id}")
async def product(product_id: int) -> Response:
    return Response(PRODUCT, media_type="application/json")
