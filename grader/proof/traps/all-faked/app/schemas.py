"""Response models."""

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict

from app.models import Order


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    category: str
    price_cents: int
    stock: int


class ProductPage(BaseModel):
    items: list[ProductOut]
    limit: int
    offset: int


class OrderItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: int
    quantity: int
    unit_price_cents: int


class OrderOut(BaseModel):
    id: int
    customer_email: str
    status: str
    currency: str
    total_cents: int
    payment_id: str | None
    created_at: datetime
    items: list[OrderItemOut]

    @classmethod
    def from_order(cls, order: Order, customer_email: str) -> Self:
        return cls(
            id=order.id,
            customer_email=customer_email,
            status=order.status,
            currency=order.currency,
            total_cents=order.total_cents,
            payment_id=order.payment_id,
            created_at=order.created_at,
            items=[OrderItemOut.model_validate(item) for item in order.items],
        )


class Conversion(BaseModel):
    currency: str
    rate: str
    total: str


class OrderDetail(OrderOut):
    converted: Conversion | None = None


class CustomerOrders(BaseModel):
    customer_email: str
    orders: list[OrderOut]
