"""Facts about the kit's seed that the grader relies on (db/seed.sql, db/README.md)."""

from __future__ import annotations

API_KEY = "shop_web.7b2e9d0c4f6a41e3b5d2"
OPS_API_KEY = "shop_ops.3f9c1b7e2d4a4c55a8e1"
REVOKED_API_KEY = "shop_old.0a1b2c3d4e5f60718293"
CATEGORIES = ("books", "garden", "kitchen", "toys", "electronics", "sports", "music", "office")
SEEDED_CUSTOMERS = 2000
SEEDED_ORDERS = 20000
PRODUCTS = 10000
PRODUCT_IDS = range(1, PRODUCTS + 1)  # every product id of the seed
ORDER_IDS = range(1, SEEDED_ORDERS + 1)  # every seeded order's id
FIRST_NEW_ORDER_ID = SEEDED_ORDERS + 1  # the id the first order placed on a fresh database gets
LOW_STOCK_EVERY = 97  # seed.sql: a product whose id is a multiple of this has (almost) no stock
HTTP_TIMEOUT_S = 20.0  # a probe's or the contract's client: far beyond any answer a working app gives


def in_stock(product_id: int) -> bool:
    """Whether the seed gives this product plenty of stock (orders that must succeed avoid the others)."""
    return product_id % LOW_STOCK_EVERY != 0


# GET /rates/{currency} on the payments stub: drawn per deployment (payments_stub.draw_rates), read with
# `PaymentsStub.rates()`; never a table here.
