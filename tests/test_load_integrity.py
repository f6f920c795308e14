"""The books after a load run: orders placed honestly add up; stock or charges that do not are named."""

from __future__ import annotations

import httpx
import pytest

from grader.kitdata import API_KEY
from grader.load import integrity
from grader.probes import ProbeTarget

pytestmark = pytest.mark.slow


def _orders(url: str, products: list[int]) -> None:
    with httpx.Client(base_url=url, timeout=20.0) as client:
        for product in products:
            body = {"customer_email": f"books{product}@example.org", "items": [{"product_id": product, "quantity": 2}]}
            assert client.post("/orders", json=body, headers={"X-API-Key": API_KEY}).status_code == 201


def test_honest_orders_leave_no_breach_and_tampered_books_are_named(solution: ProbeTarget) -> None:
    """Three real orders add up; a stock change with no order, a paid order with no charge (made up, or
    refunded) are named."""
    with solution.deploy() as deployment:
        before = integrity.snapshot(deployment)
        _orders(deployment.url, [21, 22, 23])
        honest = integrity.check(deployment, before)
        deployment.query("UPDATE products SET stock = stock - 1 WHERE id = 24")
        customer = deployment.scalar("SELECT id FROM customers WHERE email = 'books21@example.org'")
        deployment.query(
            "INSERT INTO orders (customer_id, status, total_cents, payment_id) VALUES (%s, 'paid', 100, 'ch_made_up')",
            customer,
        )
        tampered = integrity.check(deployment, before)
        key = next(iter(deployment.stub.stats()["charges_by_key"]))
        httpx.post(f"{deployment.stub.url}/cancellations", headers={"Idempotency-Key": key}, timeout=5.0)
        refunded = integrity.check(deployment, before)
    assert honest["breaches"] == []
    assert honest["orders"] == 3
    assert honest["charges"] == 3
    assert any("stock change" in b and "24" in b for b in tampered["breaches"])
    assert any("paid orders with no charge" in b for b in tampered["breaches"])
    assert any("2 paid orders with no charge" in b for b in refunded["breaches"])  # a refunded charge is none
