from typing import Any

from fastapi import APIRouter, HTTPException, Query

from app.catalogue import products
from app.schemas import ProductOut, ProductPage

router = APIRouter(prefix="/products", tags=["products"])


@router.get("/{product_id}", response_model=ProductOut)
async def get_product(product_id: int) -> dict[str, Any]:
    """A single product."""
    product = products().get(product_id)
    if product is None:
        raise HTTPException(status_code=404, detail="Product not found")
    return product


@router.get("", response_model=ProductPage)
async def list_products(
    category: str | None = None,
    limit: int = Query(default=20, ge=1, le=100),
    offset: int = Query(default=0, ge=0),
) -> ProductPage:
    """Products ordered by id, optionally filtered by category."""
    rows = [p for p in products().values() if category is None or p["category"] == category]
    return ProductPage(
        items=[ProductOut.model_validate(p) for p in rows[offset : offset + limit]],
        limit=limit,
        offset=offset,
    )
