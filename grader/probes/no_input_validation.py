"""no-input-validation: every malformed order body gets the contract's 422, never a 5xx, and writes nothing."""

from __future__ import annotations

import json

import httpx

from grader import kitdata
from grader.kitdata import API_KEY
from grader.probes._base import ProbeResult, ProbeTarget, judge
from grader.runner.deploy import Deployment

BUG = "no-input-validation"
METRIC = "bad_bodies_mishandled"
EMAIL = "validation@example.org"


def corpus(products: list[int]) -> dict[str, bytes]:
    """Named malformed bodies; each breaks one rule of the contract and uses a product of its own,
    so that a flawed app's leftovers from one body cannot change the answer to the next."""
    fresh = iter(products)

    def item(quantity: object = 1) -> dict[str, object]:
        return {"product_id": next(fresh), "quantity": quantity}

    def body(**fields: object) -> bytes:
        return json.dumps({"customer_email": EMAIL, "items": [item()], **fields}).encode()

    duplicate = next(fresh)
    return {
        "not JSON": b"{not json",
        "a JSON list": b"[1, 2]",
        "empty object": b"{}",
        "no items": json.dumps({"customer_email": EMAIL}).encode(),
        "no e-mail": json.dumps({"items": [item()]}).encode(),
        "invalid e-mail": body(customer_email="not-an-email"),
        "e-mail is a number": body(customer_email=42),
        "items is a string": body(items="abc"),
        "empty items": body(items=[]),
        "51 items": body(items=[item() for _ in range(51)]),
        "item without quantity": body(items=[{"product_id": next(fresh)}]),
        "item without product": body(items=[{"quantity": 1}]),
        "quantity 0": body(items=[item(0)]),
        "negative quantity": body(items=[item(-5)]),
        "quantity over 1000": body(items=[item(1001)]),
        "quantity is text": body(items=[item("two")]),
        "fractional quantity": body(items=[item(1.5)]),
        "product_id is text": body(items=[{"product_id": "abc", "quantity": 1}]),
        "product_id is null": body(items=[{"product_id": None, "quantity": 1}]),
        "duplicate product": body(
            items=[{"product_id": duplicate, "quantity": 1}, {"product_id": duplicate, "quantity": 2}]
        ),
    }


def _footprint(deployment: Deployment) -> tuple[object, ...]:
    return deployment.query(
        "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM customers), (SELECT sum(stock) FROM products)"
    )[0]


def probe(target: ProbeTarget) -> ProbeResult:
    outcomes: dict[str, int | str] = {}
    with target.deploy() as deployment:
        products = [
            int(r[0]) for r in deployment.query("SELECT id FROM products WHERE stock >= 1500 ORDER BY id LIMIT 100")
        ]
        before = _footprint(deployment)
        headers = {"X-API-Key": API_KEY, "Content-Type": "application/json"}
        with httpx.Client(base_url=deployment.url, timeout=kitdata.HTTP_TIMEOUT_S) as client:
            for name, raw in corpus(products).items():
                try:
                    outcomes[name] = client.post("/orders", content=raw, headers=headers).status_code
                except httpx.HTTPError as exc:
                    outcomes[name] = type(exc).__name__
        after = _footprint(deployment)
    mishandled = {
        name: status
        for name, status in outcomes.items()
        if status != 422  # CONTRACT.md: a bad body is a 422
    }
    wrote = before != after
    evidence = {
        "answers": outcomes,
        "mishandled": mishandled,
        "database_changed": wrote,
        "orders_customers_stock_before": list(before),
        "after": list(after),
    }
    problems = ["the database changed"] if wrote else []
    what = f"malformed bodies (of {len(outcomes)}) not answered 422"
    return judge(BUG, len(mishandled), evidence, what=what, problems=problems)
