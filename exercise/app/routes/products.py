from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import get_session
from app.models import Product
from app.schemas import ProductOut, ProductPage

router = APIRouter(prefix="/products", tags=["products"])


@router.get("/{product_id}", response_model=ProductOut)
async def get_product(product_id: int, session: Session = Depends(get_session)) -> Product:
    """A single product."""
    product = session.get(Product, product_id)
    if product is None:
        raise HTTPException(status_code=404, detail="Product not found")
    return product


@router.get("", response_model=ProductPage)
async def list_products(
    category: str | None = None,
    limit: int = Query(default=20, ge=1, le=100),
    offset: int = Query(default=0, ge=0),
    session: Session = Depends(get_session),
) -> ProductPage:
    """Products ordered by id, optionally filtered by category."""
    query = select(Product).order_by(Product.id).limit(limit).offset(offset)
    if category is not None:
        query = query.where(Product.category == category)
    products = session.scalars(query).all()
    return ProductPage(
        items=[ProductOut.model_validate(p) for p in products],
        limit=limit,
        offset=offset,
    )
