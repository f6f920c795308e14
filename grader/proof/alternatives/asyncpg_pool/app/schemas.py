"""Request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, EmailStr, Field, StrictInt, field_validator


class Line(BaseModel):
    product_id: Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)]
    quantity: Annotated[StrictInt, Field(ge=1, le=1000)]


class NewOrder(BaseModel):
    customer_email: EmailStr
    items: Annotated[list[Line], Field(min_length=1, max_length=50)]

    @field_validator("items")
    @classmethod
    def _no_repeats(cls, items: list[Line]) -> list[Line]:
        if len({line.product_id for line in items}) != len(items):
            raise ValueError("a product may be ordered only once per order")
        return items


class Product(BaseModel):
    id: int
    sku: str
    name: str
    category: str
    price_cents: int
    stock: int


class Products(BaseModel):
    items: list[Product]
    limit: int
    offset: int


class Item(BaseModel):
    product_id: int
    quantity: int
    unit_price_cents: int


class Converted(BaseModel):
    currency: str
    rate: str
    total: str


class Order(BaseModel):
    id: int
    customer_email: str
    status: str
    currency: str
    total_cents: int
    payment_id: str | None
    created_at: datetime
    items: list[Item]
    converted: Converted | None = None

    @classmethod
    def from_row(cls, row: Any, email: str, items: list[Item]) -> Order:
        return cls(
            id=row["id"], customer_email=email, status=row["status"], currency=row["currency"],
            total_cents=row["total_cents"], payment_id=row["payment_id"], created_at=row["created_at"], items=items,
        )


class CustomerOrders(BaseModel):
    customer_email: str
    orders: list[Order]
