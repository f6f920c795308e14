"""Facts about the kit's seed that the grader relies on (db/seed.sql, db/README.md)."""

from __future__ import annotations

API_KEY = "shop_web.7b2e9d0c4f6a41e3b5d2"
OPS_API_KEY = "shop_ops.3f9c1b7e2d4a4c55a8e1"
REVOKED_API_KEY = "shop_old.0a1b2c3d4e5f60718293"
CATEGORIES = ("books", "garden", "kitchen", "toys", "electronics", "sports", "music", "office")
SEEDED_CUSTOMERS = 2000
SEEDED_ORDERS = 20000
PRODUCTS = 10000
# GET /rates/{currency} on the payments stub: drawn per deployment (payments_stub.draw_rates), read with
# `PaymentsStub.rates()`; never a table here.
