"""The product catalogue, read once at start-up and kept in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_ALL = text("SELECT id, sku, name, category, price_cents, stock FROM products ORDER BY id")


@dataclass
class Catalogue:
    ordered: list[dict[str, Any]] = field(default_factory=list)
    by_id: dict[int, dict[str, Any]] = field(default_factory=dict)
    by_category: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    async def load(cls, engine: AsyncEngine) -> Catalogue:
        async with engine.connect() as connection:
            rows = (await connection.execute(_ALL)).mappings().all()
        catalogue = cls()
        for row in rows:
            product = dict(row)
            catalogue.ordered.append(product)
            catalogue.by_id[product["id"]] = product
            catalogue.by_category.setdefault(product["category"], []).append(product)
        return catalogue
