"""Bodies in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field


def _distinct(lines: list[OrderLineIn]) -> list[OrderLineIn]:
    ids = [line.product_id for line in lines]
    if len(ids) != len(set(ids)):
        raise ValueError("product_id must be distinct")
    return lines


class OrderLineIn(BaseModel):
    model_config = ConfigDict(strict=True)

    product_id: int = Field(ge=-(2**63), le=2**63 - 1)
    quantity: int = Field(ge=1, le=1000)


class OrderIn(BaseModel):
    customer_email: EmailStr
    items: Annotated[list[OrderLineIn], Field(min_length=1, max_length=50), AfterValidator(_distinct)]


class ProductOut(BaseModel):
    id: int
    sku: str
    name: str
    category: str
    price_cents: int
    stock: int


class PageOut(BaseModel):
    items: list[ProductOut]
    limit: int
    offset: int


class LineOut(BaseModel):
    product_id: int
    quantity: int
    unit_price_cents: int


class ConversionOut(BaseModel):
    currency: str
    rate: str
    total: str


class OrderOut(BaseModel):
    id: int
    customer_email: str
    status: str
    currency: str
    total_cents: int
    payment_id: str | None
    created_at: datetime
    items: list[LineOut]
    converted: ConversionOut | None = None


class HistoryOut(BaseModel):
    customer_email: str
    orders: list[OrderOut]
