"""The contract's cases, in the order they run. Each proves one promise of contract/CONTRACT.md.

Only behaviour the exercise already gets right at low concurrency lives here: with a healthy payments API,
and the answers it already gives when the payments API declines or stays down (502). What the exercise gets
wrong on purpose is measured by the probes (grader/probes/), so no behaviour is scored twice. Per status:

- 200/201, 401, 404, 409: contract. The exercise answers them right, one request at a time.
- 422: contract for query and path parameters (`limit`, `offset`, ids, `currency`) and an unknown currency,
  which the exercise validates; a probe (no-input-validation) for bad order bodies, which it does not.
- 502: contract for a declined charge and for a payments API that answers 503s or resets until the retries
  run out: the exercise already fails those orders with 502, never 500, and keeps nothing.
- 504: a probe (no-upstream-timeout): the exercise waits on a hanging payments API forever.
- 500: never an answer of the contract; any case expecting another status fails on it.
- Audit rows, /metrics, latency and answers under load or faults: probes.

Every response body of every case is validated against contract/openapi.json (grader/contract/_schema.py),
so a renamed, missing or stray field fails the case that met it.

Each case declares its `severity` (what a client suffers when it fails: "critical" checkout broken, money
or stock wrong; "major" a documented behaviour wrong; "minor" a shape detail) and `integrity` (its failures
show the service reporting work it did not do: an order that is not stored, a charge that does not exist,
stock it does not have, a rate it did not ask for).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any, Literal

from grader import kitdata
from grader.contract._context import ContractContext, ContractFailure, expect, expect_status
from grader.kitdata import CATEGORIES, OPS_API_KEY, PRODUCTS, REVOKED_API_KEY

Severity = Literal["critical", "major", "minor"]
CaseFunction = Callable[[ContractContext], Awaitable[None]]

PRODUCT_FIELDS = ("id", "sku", "name", "category", "price_cents", "stock")
PAYMENTS_BOUND_S = 10.0  # CONTRACT.md: an order fails within 10 s when the payments API stays down
LIMIT_MAX = 100
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Case:
    name: str
    run: CaseFunction
    severity: Severity
    integrity: bool


CASES: list[Case] = []


def case(*, severity: Severity, integrity: bool = False) -> Callable[[CaseFunction], CaseFunction]:
    def register(function: CaseFunction) -> CaseFunction:
        CASES.append(Case(function.__name__, function, severity, integrity))
        return function

    return register


async def _product_row(ctx: ContractContext, product_id: int) -> dict[str, Any]:
    rows = await ctx.query(f"SELECT {', '.join(PRODUCT_FIELDS)} FROM products WHERE id = %s", product_id)
    return dict(zip(PRODUCT_FIELDS, rows[0], strict=True))


async def _stock(ctx: ContractContext, ids: list[int]) -> dict[int, int]:
    rows = await ctx.query("SELECT id, stock FROM products WHERE id = ANY(%s)", ids)
    return {int(r[0]): int(r[1]) for r in rows}


async def _order_count(ctx: ContractContext) -> int:
    return int(await ctx.scalar("SELECT count(*) FROM orders"))


async def _page_of(ctx: ContractContext, product_id: int, category: str) -> dict[str, Any]:
    """List parameters whose page starts with `product_id`."""
    before = "SELECT count(*) FROM products WHERE category = %s AND id < %s"
    offset = int(await ctx.scalar(before, category, product_id))
    return {"category": category, "limit": ctx.rng.randrange(1, 6), "offset": offset}


async def _api_stock(ctx: ContractContext, product_id: int, page: dict[str, Any]) -> tuple[int, int]:
    """The product's stock as GET /products/{id} and as its list page report it."""
    one = await ctx.client.get(f"/products/{product_id}")
    expect_status(one, 200)
    listed = await ctx.client.get("/products", params=page)
    expect_status(listed, 200)
    items = listed.json()["items"]
    expect(items and items[0]["id"] == product_id, f"GET /products?{page} does not start with product {product_id}")
    return int(one.json()["stock"]), int(items[0]["stock"])


class _Nothing:
    """What a failed order must leave behind: no order, the stock as it was, no charge at the provider."""

    def __init__(self, ctx: ContractContext, product_ids: list[int]) -> None:
        self.ctx, self.product_ids = ctx, product_ids

    async def __aenter__(self) -> _Nothing:
        self.orders = await _order_count(self.ctx)
        self.stock = await _stock(self.ctx, self.product_ids)
        self.charges = len(await self.ctx.charges())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if exc[0] is not None:
            return
        what = self.what
        expect(await _order_count(self.ctx) == self.orders, f"an order was written {what}")
        expect(await _stock(self.ctx, self.product_ids) == self.stock, f"stock changed {what}")
        charged = len(await self.ctx.charges()) - self.charges
        expect(charged == 0, f"{charged} charges were created at the payments API {what}")

    what = ""

    def because(self, what: str) -> _Nothing:
        self.what = what
        return self


# --- health and products ------------------------------------------------------------------------


@case(severity="major")
async def health_answers_ok(ctx: ContractContext) -> None:
    response = await ctx.client.get("/health")
    expect_status(response, 200)
    expect(response.json() == {"status": "ok"}, f"GET /health body {response.text[:100]}")


@case(severity="major")
async def product_by_id_matches_database(ctx: ContractContext) -> None:
    for product_id in ctx.rng.sample(range(1, PRODUCTS + 1), 5):
        response = await ctx.client.get(f"/products/{product_id}")
        expect_status(response, 200)
        row = await _product_row(ctx, product_id)
        body = {key: response.json().get(key) for key in PRODUCT_FIELDS}
        expect(body == row, f"GET /products/{product_id} gave {body}, the database has {row}")


@case(severity="minor")
async def unknown_product_is_404(ctx: ContractContext) -> None:
    response = await ctx.client.get(f"/products/{ctx.rng.randrange(10**6, 10**7)}")
    expect_status(response, 404)


@case(severity="minor")
async def non_integer_ids_are_422(ctx: ContractContext) -> None:
    for path in ("/products/abc", "/products/1.5", "/orders/abc", "/orders/1.5"):
        response = await ctx.client.get(path)
        expect_status(response, 422)


@case(severity="major")
async def product_list_pages_by_category(ctx: ContractContext) -> None:
    category = ctx.rng.choice(CATEGORIES)
    limit, offset = ctx.rng.randrange(5, 40), ctx.rng.randrange(0, 300)
    response = await ctx.client.get("/products", params={"category": category, "limit": limit, "offset": offset})
    expect_status(response, 200)
    body = response.json()
    rows = await ctx.query(
        "SELECT id FROM products WHERE category = %s ORDER BY id LIMIT %s OFFSET %s", category, limit, offset
    )
    got = [item["id"] for item in body["items"]]
    expect(got == [r[0] for r in rows], f"category={category} limit={limit} offset={offset}: ids {got[:5]}...")
    expect(all(item["category"] == category for item in body["items"]), "an item of another category")
    expect((body.get("limit"), body.get("offset")) == (limit, offset), "limit/offset not echoed")


@case(severity="minor")
async def product_list_defaults_to_twenty_by_id(ctx: ContractContext) -> None:
    response = await ctx.client.get("/products")
    expect_status(response, 200)
    body = response.json()
    got = [item["id"] for item in body["items"]]
    expect(got == list(range(1, 21)), f"GET /products gave ids {got}")
    echoed = (body["limit"], body["offset"])
    expect(echoed == (20, 0), f"defaults echoed as (limit, offset) {echoed}")


@case(severity="minor")
async def product_list_limit_and_offset_bounds(ctx: ContractContext) -> None:
    offset = ctx.rng.randrange(0, PRODUCTS - LIMIT_MAX)
    for limit in (1, LIMIT_MAX):
        response = await ctx.client.get("/products", params={"limit": limit, "offset": offset})
        expect_status(response, 200)
        got = [item["id"] for item in response.json()["items"]]
        expect(got == list(range(offset + 1, offset + limit + 1)), f"limit={limit} offset={offset}: ids {got[:3]}...")
    for offset, count in ((PRODUCTS - 1, 1), (PRODUCTS, 0)):
        response = await ctx.client.get("/products", params={"limit": LIMIT_MAX, "offset": offset})
        expect_status(response, 200)
        expect(len(response.json()["items"]) == count, f"offset={offset}: {len(response.json()['items'])} items")
    for params in ({"limit": 0}, {"limit": LIMIT_MAX + 1}, {"limit": -1}, {"offset": -1}, {"limit": "many"}):
        response = await ctx.client.get("/products", params=params)
        expect_status(response, 422)


# --- placing an order ----------------------------------------------------------------------------


@case(severity="critical")
async def order_is_created_paid(ctx: ContractContext) -> None:
    stocked = await ctx.stocked_products(100)
    chosen = ctx.rng.sample(stocked, ctx.rng.randrange(1, 4))
    ctx.use([row[0] for row in chosen])
    items = [{"product_id": pid, "quantity": ctx.rng.randrange(1, 4)} for pid, *_ in chosen]
    # Read each product through the API first, so a cache in front of the table holds it when the order lands.
    pages = {pid: await _page_of(ctx, pid, category) for pid, _, _, category in chosen}
    before_api = {pid: await _api_stock(ctx, pid, page) for pid, page in pages.items()}
    before = await _stock(ctx, list(pages))
    charges_before = len(await ctx.charges())
    email = ctx.new_email()
    response = await ctx.post_order({"customer_email": email, "items": items})
    expect_status(response, 201)
    order = response.json()
    ctx.state["order"] = order
    ctx.state["order_placed"] = {
        "items": items, "pages": pages, "before": before, "before_api": before_api, "charges_before": charges_before,
    }  # fmt: skip
    prices = {pid: price for pid, price, _, _ in chosen}
    total = sum(item["quantity"] * prices[item["product_id"]] for item in items)
    expect(order["status"] == "paid", f"status {order['status']!r}, expected 'paid'")
    expect(order["currency"] == "USD", f"currency {order['currency']!r}")
    expect(order["total_cents"] == total, f"total_cents {order['total_cents']}, expected {total}")
    expect(order["customer_email"] == email, "customer_email not echoed")
    got_items = sorted((i["product_id"], i["quantity"], i["unit_price_cents"]) for i in order["items"])
    want_items = sorted((i["product_id"], i["quantity"], prices[i["product_id"]]) for i in items)
    expect(got_items == want_items, f"items {got_items}, expected {want_items}")
    expect(isinstance(order["payment_id"], str) and order["payment_id"], f"payment_id {order['payment_id']!r}")


def _placed(ctx: ContractContext) -> tuple[dict[str, Any], dict[str, Any]]:
    order, placed = ctx.state.get("order"), ctx.state.get("order_placed")
    if not order or not placed:
        raise ContractFailure("no order was created earlier in the suite", integrity=False)
    return order, placed


@case(severity="critical", integrity=True)
async def order_is_stored_as_reported(ctx: ContractContext) -> None:
    order, placed = _placed(ctx)
    rows = await ctx.query(
        "SELECT o.total_cents, o.status, o.currency, o.payment_id, c.email FROM orders o"
        " JOIN customers c ON c.id = o.customer_id WHERE o.id = %s",
        order["id"],
    )
    want = (order["total_cents"], "paid", "USD", order["payment_id"], order["customer_email"])
    expect(rows == [want], f"order {order['id']} answered as {want}, the database has {rows}")
    stored = await ctx.query(
        "SELECT product_id, quantity, unit_price_cents FROM order_items WHERE order_id = %s ORDER BY product_id",
        order["id"],
    )
    want_items = sorted((i["product_id"], i["quantity"], i["unit_price_cents"]) for i in order["items"])
    expect(sorted(stored) == want_items, f"order_items rows {stored}, the answer has {want_items}")
    after = await _stock(ctx, list(placed["before"]))
    for item in placed["items"]:
        pid, quantity = item["product_id"], item["quantity"]
        was = placed["before"][pid]
        expect(after[pid] == was - quantity, f"stock of {pid}: {was} → {after[pid]} stored, quantity {quantity}")


@case(severity="critical", integrity=True)
async def order_charge_exists_at_provider(ctx: ContractContext) -> None:
    order, placed = _placed(ctx)
    new = (await ctx.charges())[placed["charges_before"] :]
    expect(new, f"order {order['id']} answered 201 with payment_id {order['payment_id']!r}; no charge was created")
    matching = [charge for charge in new if charge["id"] == order["payment_id"]]
    created = [c["id"] for c in new]
    expect(matching, f"payment_id {order['payment_id']!r} is no charge of the payments API (it created {created})")
    charge = matching[0]
    expect(
        (charge["amount_cents"], charge["currency"], charge["customer_email"])
        == (order["total_cents"], "USD", order["customer_email"]),
        f"charge {charge['id']} is {charge['amount_cents']} {charge['currency']} for {charge['customer_email']}, "
        f"the order {order['total_cents']} USD for {order['customer_email']}",
    )
    expect(len(new) == 1, f"{len(new)} charges created for one order (keys {sorted({c['key'] for c in new})})")


@case(severity="critical", integrity=True)
async def stock_reads_back_after_order(ctx: ContractContext) -> None:
    _, placed = _placed(ctx)
    stock = await _stock(ctx, list(placed["before"]))
    for item in placed["items"]:
        pid = item["product_id"]
        by_id, listed = await _api_stock(ctx, pid, placed["pages"][pid])
        want = placed["before_api"][pid][0] - item["quantity"]
        expect(
            (by_id, listed) == (want, want) and want == stock[pid],
            f"after ordering {item['quantity']} of product {pid} (stock {placed['before_api'][pid][0]} before), "
            f"GET /products/{pid} reports stock {by_id} and its list page {listed}; the database has {stock[pid]}",
        )


@case(severity="major")
async def order_at_the_item_and_quantity_bounds(ctx: ContractContext) -> None:
    """50 distinct items, one of quantity 1000: the largest order the rules allow is accepted."""
    stocked = await ctx.stocked_products(100)
    big = ctx.rng.choice([row for row in stocked if row[2] >= 1000])
    rest = ctx.rng.sample([row for row in stocked if row[0] != big[0]], 49)
    chosen = [big, *rest]
    ctx.use([row[0] for row in chosen])
    items = [{"product_id": pid, "quantity": 1000 if pid == big[0] else 1} for pid, *_ in chosen]
    response = await ctx.post_order({"customer_email": ctx.new_email(), "items": items})
    expect_status(response, 201)
    total = sum(item["quantity"] * row[1] for item, row in zip(items, chosen, strict=True))
    expect(response.json()["total_cents"] == total, f"total_cents {response.json()['total_cents']}, expected {total}")
    expect(len(response.json()["items"]) == 50, f"{len(response.json()['items'])} items in the answer")


@case(severity="major")
async def order_for_known_customer_reuses_it(ctx: ContractContext) -> None:
    customer = ctx.rng.randrange(1, 2001)
    email = f"customer{customer}@example.com"
    ((pid, _, _),) = await ctx.pick_products(1)
    response = await ctx.post_order(
        {"customer_email": email, "items": [{"product_id": pid, "quantity": 1}]}, key=OPS_API_KEY
    )
    expect_status(response, 201)
    owner = await ctx.scalar("SELECT customer_id FROM orders WHERE id = %s", response.json()["id"])
    expect(owner == customer, f"order stored for customer {owner}, expected {customer}")
    customers = await ctx.scalar("SELECT count(*) FROM customers WHERE email = %s", email)
    expect(customers == 1, f"{customers} customers with e-mail {email}")
    ctx.state["known_customer_order"] = (email, response.json()["id"])


@case(severity="critical")
async def bad_api_keys_are_401_and_write_nothing(ctx: ContractContext) -> None:
    ((pid, _, _),) = await ctx.pick_products(1)
    body = {"customer_email": ctx.new_email(), "items": [{"product_id": pid, "quantity": 1}]}
    async with _Nothing(ctx, [pid]).because("with a bad key"):
        for key in (None, "", "shop_web.wrong-secret", "nosuchprefix.abc", REVOKED_API_KEY, "no-dot-at-all"):
            response = await ctx.post_order(body, key=key)
            expect_status(response, 401)


@case(severity="critical")
async def unknown_product_order_is_404_and_writes_nothing(ctx: ContractContext) -> None:
    ((pid, _, _),) = await ctx.pick_products(1)
    unknown = ctx.rng.randrange(10**6, 10**7)
    async with _Nothing(ctx, [pid]).because("for an unknown product"):
        response = await ctx.post_order(
            {
                "customer_email": ctx.new_email(),
                "items": [{"product_id": pid, "quantity": 2}, {"product_id": unknown, "quantity": 1}],
            }
        )
        expect_status(response, 404)


@case(severity="critical")
async def insufficient_stock_is_409_and_writes_nothing(ctx: ContractContext) -> None:
    ((pid, _, _),) = await ctx.pick_products(1)
    rows = await ctx.query("SELECT id, stock FROM products WHERE stock < 4 ORDER BY id")
    scarce, scarce_stock = ctx.rng.choice(rows)
    async with _Nothing(ctx, [pid, int(scarce)]).because("without stock"):
        response = await ctx.post_order(
            {
                "customer_email": ctx.new_email(),
                "items": [
                    {"product_id": pid, "quantity": 1},
                    {"product_id": scarce, "quantity": int(scarce_stock) + 1},
                ],
            }
        )
        expect_status(response, 409)


@case(severity="critical", integrity=True)
async def declined_payment_is_502_and_rolled_back(ctx: ContractContext) -> None:
    ((pid, _, _),) = await ctx.pick_products(1)
    async with _Nothing(ctx, [pid]).because("although the payment was declined"):
        ctx.deployment.stub.configure(charges={"decline": True})
        try:
            response = await ctx.post_order(
                {"customer_email": ctx.new_email(), "items": [{"product_id": pid, "quantity": 1}]}
            )
        finally:
            ctx.deployment.stub.configure(charges={"decline": False})
        expect_status(response, 502)


@case(severity="critical", integrity=True)
async def payments_down_is_502_and_rolled_back(ctx: ContractContext) -> None:
    """503s or reset connections on every attempt: 502 within the contract's bound, nothing kept."""
    for failure in ("503", "reset"):
        ((pid, _, _),) = await ctx.pick_products(1)
        async with _Nothing(ctx, [pid]).because(f"although every charge attempt failed ({failure})"):
            ctx.deployment.stub.configure(charges={"failure": failure, "fail_every": 1})
            started = time.monotonic()
            try:
                response = await ctx.post_order(
                    {"customer_email": ctx.new_email(), "items": [{"product_id": pid, "quantity": 1}]}
                )
            finally:
                ctx.deployment.stub.configure(charges={"failure": "503", "fail_every": 0})
            elapsed = time.monotonic() - started
            expect_status(response, 502)
            expect(
                elapsed <= PAYMENTS_BOUND_S,
                f"the order failed after {elapsed:.1f} s (> {PAYMENTS_BOUND_S:.0f} s)",
                integrity=False,
            )


# --- reading orders ------------------------------------------------------------------------------


@case(severity="major")
async def order_reads_back(ctx: ContractContext) -> None:
    order, _ = _placed(ctx)
    response = await ctx.client.get(f"/orders/{order['id']}")
    expect_status(response, 200)
    body = response.json()
    for key in ("id", "customer_email", "status", "currency", "total_cents", "payment_id", "created_at"):
        expect(body[key] == order[key], f"GET /orders/{order['id']}: {key} {body[key]!r} != {order[key]!r}")
    items = sorted((i["product_id"], i["quantity"], i["unit_price_cents"]) for i in body["items"])
    want = sorted((i["product_id"], i["quantity"], i["unit_price_cents"]) for i in order["items"])
    expect(items == want, "items differ from the created order's")


@case(severity="major")
async def seeded_order_reads_back(ctx: ContractContext) -> None:
    order_id = ctx.rng.choice(kitdata.ORDER_IDS)
    response = await ctx.client.get(f"/orders/{order_id}")
    expect_status(response, 200)
    body = response.json()
    row = await ctx.query(
        "SELECT o.total_cents, o.payment_id, c.email FROM orders o"
        " JOIN customers c ON c.id = o.customer_id WHERE o.id = %s",
        order_id,
    )
    expect(
        (body["total_cents"], body["payment_id"], body["customer_email"]) == row[0],
        f"GET /orders/{order_id} does not match the database row {row[0]}",
    )
    items = await ctx.query(
        "SELECT product_id, quantity, unit_price_cents FROM order_items WHERE order_id = %s ORDER BY product_id",
        order_id,
    )
    got = sorted((i["product_id"], i["quantity"], i["unit_price_cents"]) for i in body["items"])
    expect(got == sorted(items), f"GET /orders/{order_id} items {got}, the database has {sorted(items)}")


@case(severity="minor")
async def unknown_order_is_404(ctx: ContractContext) -> None:
    response = await ctx.client.get(f"/orders/{ctx.rng.randrange(10**6, 10**7)}")
    expect_status(response, 404)


def _converted(ctx: ContractContext, body: dict[str, Any], currency: str) -> dict[str, Any]:
    converted = body.get("converted")
    expect(isinstance(converted, dict), f"no `converted` for ?currency={currency}", integrity=False)
    assert isinstance(converted, dict)
    expect(converted["currency"] == currency, f"converted.currency {converted['currency']!r}", integrity=False)
    return converted


@case(severity="major", integrity=True)
async def order_total_converts_currency(ctx: ContractContext) -> None:
    """The provider's rate of this deployment (rates differ per deployment: a copied table fails)."""
    order_id = ctx.rng.choice(kitdata.ORDER_IDS)
    total = int(await ctx.scalar("SELECT total_cents FROM orders WHERE id = %s", order_id))
    rates = await ctx.rates()
    currency = ctx.fresh_currency(rates)
    response = await ctx.client.get(f"/orders/{order_id}", params={"currency": currency})
    expect_status(response, 200)
    converted = _converted(ctx, response.json(), currency)
    rate = Decimal(rates[currency])
    expect(
        Decimal(converted["rate"]) == rate,
        f"?currency={currency}: rate {converted['rate']!r}, the payments API's rate is {rates[currency]!r}",
    )
    want = (Decimal(total) * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    expect(
        Decimal(converted["total"]) == want,
        f"?currency={currency}: total {converted['total']!r} for {total} cents at {rate}, expected {want}",
        integrity=False,
    )
    usd = await ctx.client.get(f"/orders/{order_id}", params={"currency": "USD"})
    expect_status(usd, 200)
    same = _converted(ctx, usd.json(), "USD")
    expect(Decimal(same["rate"]) == 1, f"USD rate {same['rate']!r}, expected 1", integrity=False)
    expect(Decimal(same["total"]) == Decimal(total) / 100, f"USD total {same['total']!r}", integrity=False)


def _half_cent_order(stocked: list[tuple[int, int, int, str]], rate: Decimal) -> list[tuple[int, int]] | None:
    """(product id, quantity) lines whose total converts at `rate` to an exact half cent above an even cent:
    half-up and half-even rounding then differ.

    With the rate as units / scale (scale = 10^decimals), the amount in cents is total * units / scale; it
    is a half cent when total * units ≡ scale/2 (mod scale), which for odd units (the stub's rates end in an
    odd digit) holds for any total ≡ scale/2.
    """
    decimals = -int(rate.as_tuple().exponent)
    if decimals < 1:
        return None
    scale, units = 10**decimals, int(rate.scaleb(decimals))
    half = scale // 2
    by_residue: dict[int, tuple[int, int, int]] = {}
    for pid, price, _, _ in stocked:
        for quantity in range(1, 6):
            by_residue.setdefault(price * quantity % scale, (pid, quantity, price))
    for pid, price, _, _ in stocked:
        for quantity in range(1, 4):
            other = by_residue.get((half - price * quantity) % scale)
            if other is None or other[0] == pid:
                continue
            total = price * quantity + other[1] * other[2]
            if total * units % scale == half and (total * units - half) // scale % 2 == 0:
                return [(pid, quantity), (other[0], other[1])]
    return None


@case(severity="major")
async def conversion_rounds_half_up(ctx: ContractContext) -> None:
    """A total that converts to an exact half cent is rounded up (half-even or floats would go down)."""
    rates = await ctx.rates()
    currency = ctx.fresh_currency(rates)
    rate = Decimal(rates[currency])
    stocked = await ctx.stocked_products(100)
    ctx.rng.shuffle(stocked)
    lines = _half_cent_order(stocked, rate)
    if lines is None:
        raise ContractFailure(f"grader: no order converts to a half cent at {currency} {rate}", integrity=False)
    ctx.use([pid for pid, _ in lines])
    response = await ctx.post_order(
        {"customer_email": ctx.new_email(), "items": [{"product_id": p, "quantity": q} for p, q in lines]}
    )
    expect_status(response, 201)
    order = response.json()
    read = await ctx.client.get(f"/orders/{order['id']}", params={"currency": currency})
    expect_status(read, 200)
    converted = _converted(ctx, read.json(), currency)
    exact = Decimal(order["total_cents"]) * rate / 100
    half_up, half_even = exact.quantize(CENT, rounding=ROUND_HALF_UP), exact.quantize(CENT, rounding=ROUND_HALF_EVEN)
    got = Decimal(converted["total"])
    how = " (rounded half to even)" if got == half_even else ""
    what = f"{order['total_cents']} cents at {currency} {rate} = {exact}"
    expect(got == half_up, f"{what}: total {got}{how}, expected {half_up} (half up)")


@case(severity="minor")
async def bad_currency_is_422(ctx: ContractContext) -> None:
    order_id = ctx.rng.choice(kitdata.ORDER_IDS)
    for currency in ("eur", "EURO", "E1R", "XXX"):
        response = await ctx.client.get(f"/orders/{order_id}", params={"currency": currency})
        expect_status(response, 422)


# --- a customer's history ------------------------------------------------------------------------


@case(severity="major")
async def customer_orders_match_database(ctx: ContractContext) -> None:
    customer = ctx.rng.randrange(1, 2001)
    email = f"customer{customer}@example.com"
    response = await ctx.client.get(f"/customers/{email}/orders")
    expect_status(response, 200)
    body = response.json()
    ids = [order["id"] for order in body["orders"]]
    rows = await ctx.query("SELECT id FROM orders WHERE customer_id = %s ORDER BY created_at DESC, id DESC", customer)
    expect(ids == [r[0] for r in rows], f"order ids {ids[:5]}..., the database has {[r[0] for r in rows][:5]}...")
    items: dict[int, list[tuple[int, int, int]]] = {}
    for order_id, *item in await ctx.query(
        "SELECT i.order_id, i.product_id, i.quantity, i.unit_price_cents FROM order_items i"
        " JOIN orders o ON o.id = i.order_id WHERE o.customer_id = %s",
        customer,
    ):
        items.setdefault(order_id, []).append((item[0], item[1], item[2]))
    for order in body["orders"]:
        got = sorted((i["product_id"], i["quantity"], i["unit_price_cents"]) for i in order["items"])
        stored = sorted(items[order["id"]])
        expect(got == stored, f"order {order['id']}: items {got}, the database has {stored}")
        expect(order["customer_email"] == email, f"order {order['id']}: customer_email {order['customer_email']!r}")
    expect(body["customer_email"] == email, "customer_email not echoed")


@case(severity="major")
async def new_order_is_listed_first_for_its_customer(ctx: ContractContext) -> None:
    email, order_id = ctx.state.get("known_customer_order", (None, None))
    if email is None:
        raise ContractFailure("no order for a known customer was created earlier in the suite", integrity=False)
    response = await ctx.client.get(f"/customers/{email}/orders")
    expect_status(response, 200)
    orders = response.json()["orders"]
    expect(
        orders and orders[0]["id"] == order_id,
        f"newest order {orders[0]['id'] if orders else None}, expected {order_id}",
    )


@case(severity="minor")
async def unknown_customer_is_404(ctx: ContractContext) -> None:
    response = await ctx.client.get(f"/customers/{ctx.new_email()}/orders")
    expect_status(response, 404)
