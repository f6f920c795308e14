"""The orders API."""

from fastapi import FastAPI

from app.routes import customers, health, orders, products

app = FastAPI(
    title="Orders API",
    description="Products, orders and customers of the shop.",
    version="1.0.0",
)

app.include_router(health.router)
app.include_router(products.router)
app.include_router(orders.router)
app.include_router(customers.router)
