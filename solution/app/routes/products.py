"""Product reads: the hot path, so one lean Core SELECT per request and no ORM identity map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from app.deps import SessionDep
from app.errors import NotFound
from app.models import Product
from app.schemas import BigIntId, ProductPage, ProductPublic

router = APIRouter(prefix="/products", tags=["products"])

# Plain columns, not entities: rows come back as tuples, skipping ORM object construction.
_COLUMNS = select(
    Product.id, Product.sku, Product.name, Product.category, Product.price_cents, Product.stock
)


@router.get("/{product_id}")
async def get_product(product_id: BigIntId, session: SessionDep) -> ProductPublic:
    row = (await session.execute(_COLUMNS.where(Product.id == product_id))).one_or_none()
    if row is None:
        raise NotFound(f"product {product_id} not found")
    return ProductPublic.model_validate(row)


@router.get("")
async def list_products(
    session: SessionDep,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> ProductPage:
    query = _COLUMNS.order_by(Product.id).limit(limit).offset(offset)
    if category is not None:
        query = query.where(Product.category == category)  # served by the (category, id) index
    rows = (await session.execute(query)).all()
    return ProductPage(items=[ProductPublic.model_validate(row) for row in rows], limit=limit, offset=offset)
