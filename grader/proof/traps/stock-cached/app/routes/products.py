"""Product reads: the hot path, served from an in-memory copy of the catalogue loaded at start-up.

The catalogue is 10,000 rows and changes only with a deploy, so every read is a dict lookup: no
database round trip, no connection checked out. Writes (orders) still go to the database.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response

from app.catalogue import Catalogue
from app.errors import NotFound
from app.schemas import BigIntId, ProductPage, ProductPublic

router = APIRouter(prefix="/products", tags=["products"])


def _catalogue(request: Request) -> Catalogue:
    catalogue: Catalogue = request.app.state.resources.catalogue
    return catalogue


def _json(content: object) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


@router.get("/{product_id}", response_model=ProductPublic)
async def get_product(product_id: BigIntId, request: Request) -> Response:
    product = _catalogue(request).by_id.get(product_id)
    if product is None:
        raise NotFound(f"product {product_id} not found")
    return _json(product)


@router.get("", response_model=ProductPage)
async def list_products(
    request: Request,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> Response:
    catalogue = _catalogue(request)
    rows = catalogue.ordered if category is None else catalogue.by_category.get(category, [])
    return _json({"items": rows[offset : offset + limit], "limit": limit, "offset": offset})
