"""Product reads: the hot path, so Core statements built once, on an autocommit connection (no ORM)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import bindparam, select

from app.deps import ReadConnectionDep
from app.errors import NotFound
from app.models import Product
from app.schemas import BigIntId, ProductPage, ProductPublic

router = APIRouter(prefix="/products", tags=["products"])

# Built once with bind parameters: SQLAlchemy memoizes their cache keys and compiled SQL, and asyncpg
# reuses the prepared statement, so a request does no query building at all.
_COLUMNS = select(Product.id, Product.sku, Product.name, Product.category, Product.price_cents, Product.stock)
_BY_ID = _COLUMNS.where(Product.id == bindparam("product_id"))
_PAGE = _COLUMNS.order_by(Product.id).limit(bindparam("limit")).offset(bindparam("offset"))
_CATEGORY_PAGE = _PAGE.where(Product.category == bindparam("category"))  # the (category, id) index


@router.get("/{product_id}")
async def get_product(product_id: BigIntId, connection: ReadConnectionDep) -> ProductPublic:
    row = (await connection.execute(_BY_ID, {"product_id": product_id})).one_or_none()
    if row is None:
        raise NotFound(f"product {product_id} not found")
    return ProductPublic.model_validate(row)


@router.get("")
async def list_products(
    connection: ReadConnectionDep,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> ProductPage:
    params: dict[str, object] = {"limit": limit, "offset": offset}
    query = _PAGE
    if category is not None:
        query, params["category"] = _CATEGORY_PAGE, category
    rows = (await connection.execute(query, params)).all()
    return ProductPage(items=[ProductPublic.model_validate(row) for row in rows], limit=limit, offset=offset)
