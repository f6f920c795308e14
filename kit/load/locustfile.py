"""A shop's traffic against the orders API: `make load` runs it (headless, bounded, on this machine only).

Each simulated user browses products, places an order now and then, and reads its orders back. Requests
are named by route (`/products/[id]`), so each row of Locust's summary is one endpoint.
"""

from __future__ import annotations

import random
import uuid

from locust import FastHttpUser, between, task

# db/README.md: an active key, the seed's categories, and its stock rule (ids that are multiples of 97
# have almost no stock, so orders avoid them: an order should fail only when the service does).
API_KEY = "shop_web.7b2e9d0c4f6a41e3b5d2"
CATEGORIES = ("books", "garden", "kitchen", "toys", "electronics", "sports", "music", "office")
PRODUCTS = 10_000


def _product_id() -> int:
    product_id = random.randint(1, PRODUCTS - 1)
    return product_id + 1 if product_id % 97 == 0 else product_id


class Shopper(FastHttpUser):
    wait_time = between(0.05, 0.5)
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.email = f"load-{uuid.uuid4().hex[:12]}@example.com"
        self.order_ids: list[int] = []

    @task(10)
    def view_product(self) -> None:
        self.client.get(f"/products/{_product_id()}", name="/products/[id]")

    @task(4)
    def browse_category(self) -> None:
        query = f"category={random.choice(CATEGORIES)}&limit=20&offset={random.randint(0, 50)}"
        self.client.get(f"/products?{query}", name="/products?category")

    @task(3)
    def place_order(self) -> None:
        items = [{"product_id": pid, "quantity": random.randint(1, 3)} for pid in {_product_id() for _ in range(2)}]
        body = {"customer_email": self.email, "items": items}
        with self.client.post("/orders", json=body, headers={"X-API-Key": API_KEY}, catch_response=True) as response:
            if response.status_code == 201:
                self.order_ids.append(response.json()["id"])
            else:
                response.failure(f"status {response.status_code}")

    @task(3)
    def view_order(self) -> None:
        if self.order_ids:
            self.client.get(f"/orders/{random.choice(self.order_ids)}", name="/orders/[id]")

    @task(1)
    def view_order_in_euros(self) -> None:
        if self.order_ids:
            self.client.get(f"/orders/{random.choice(self.order_ids)}?currency=EUR", name="/orders/[id]?currency")

    @task(2)
    def my_orders(self) -> None:
        if self.order_ids:
            self.client.get(f"/customers/{self.email}/orders", name="/customers/[email]/orders")

    @task(2)
    def health(self) -> None:
        self.client.get("/health")
