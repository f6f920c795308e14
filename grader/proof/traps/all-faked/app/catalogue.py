"""The product catalogue, kept in memory: it changes only with a deploy, and product pages are the hot path."""

from typing import Any

from sqlalchemy import select

from app.db import SessionLocal
from app.models import Product

_products: dict[int, dict[str, Any]] | None = None


def products() -> dict[int, dict[str, Any]]:
    """Every product by id, loaded on first use."""
    global _products
    if _products is None:
        with SessionLocal() as session:
            rows = session.scalars(select(Product).order_by(Product.id)).all()
            _products = {
                p.id: {
                    "id": p.id,
                    "sku": p.sku,
                    "name": p.name,
                    "category": p.category,
                    "price_cents": p.price_cents,
                    "stock": p.stock,
                }
                for p in rows
            }
    return _products
