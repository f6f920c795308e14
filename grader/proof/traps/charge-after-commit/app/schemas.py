"""Request and response bodies (Pydantic v2). Validation here is what makes a bad body a 422."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from app.models import Order

# Ids are bigint columns: a value PostgreSQL cannot hold is a validation error, not a driver crash.
BigIntId = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class _ORMModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ProductBase(_ORMModel):
    sku: str
    name: str
    category: str
    price_cents: int
    stock: int


class ProductPublic(ProductBase):
    id: int


class ProductPage(BaseModel):
    items: list[ProductPublic]
    limit: int
    offset: int


class OrderItemBase(_ORMModel):
    product_id: BigIntId
    quantity: int = Field(ge=1, le=1000)


class OrderItemCreate(OrderItemBase):
    pass


class OrderItemPublic(OrderItemBase):
    unit_price_cents: int


class OrderCreate(BaseModel):
    customer_email: EmailStr
    items: list[OrderItemCreate] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _distinct_products(self) -> Self:
        ids = [item.product_id for item in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("each product_id may appear only once")
        return self


class ConvertedTotal(BaseModel):
    currency: str
    rate: str
    total: str


class OrderPublic(BaseModel):
    id: int
    customer_email: str  # echoed as stored: only requests are validated as e-mail addresses
    status: str
    currency: str
    total_cents: int
    payment_id: str | None
    created_at: datetime
    items: list[OrderItemPublic]
    # Only `GET /orders/{id}?currency=...` adds it; everywhere else the key is absent, not null.
    converted: ConvertedTotal | None = Field(default=None, exclude_if=lambda value: value is None)

    @classmethod
    def from_order(cls, order: Order, customer_email: str) -> Self:
        """Build from an ORM order whose `items` were loaded eagerly."""
        return cls(
            id=order.id,
            customer_email=customer_email,
            status=order.status,
            currency=order.currency,
            total_cents=order.total_cents,
            payment_id=order.payment_id,
            created_at=order.created_at,
            items=[OrderItemPublic.model_validate(item) for item in order.items],
        )


class CustomerOrdersPublic(BaseModel):
    customer_email: str
    orders: list[OrderPublic]
