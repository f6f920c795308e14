"""Measuring over HTTP: closed-loop clients, event-loop lag through /health, orders, percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import httpx

from grader.kitdata import API_KEY, CATEGORIES
from grader.probes._base import ProbeTarget
from grader.runner.deploy import Deployment

T = TypeVar("T")

HEALTH_TIMEOUT = 15.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 2),
        "p90": round(percentile(values, 90), 2),
        "max": round(max(values), 2) if values else math.nan,
    }


@dataclass
class Samples:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, started: float, status: int | None, error: str | None = None) -> None:
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        if status is not None:
            self.statuses[status] = self.statuses.get(status, 0) + 1
        if error is not None:
            self.errors[error] = self.errors.get(error, 0) + 1

    def ok(self, status: int) -> int:
        return self.statuses.get(status, 0)


async def timed(samples: Samples, request: Awaitable[httpx.Response]) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await request
    except httpx.HTTPError as exc:
        samples.add(started, None, type(exc).__name__)
        return None
    samples.add(started, response.status_code)
    return response


async def closed_loop(
    clients: int, duration: float, one: Callable[[int], Awaitable[None]], *, grace: float | None = None
) -> None:
    """`clients` workers each calling `one(worker)` back to back until `duration` seconds have passed;
    with `grace`, calls still running that long after the end are abandoned (a frozen app costs no more)."""
    deadline = time.monotonic() + duration

    async def worker(index: int) -> None:
        while time.monotonic() < deadline:
            await one(index)

    workers = [asyncio.create_task(worker(i)) for i in range(clients)]
    _, pending = await asyncio.wait(workers, timeout=None if grace is None else duration + grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=grace is not None)


async def health_lag(client: httpx.AsyncClient, stop: asyncio.Event, interval: float = 0.02) -> Samples:
    """GET /health one at a time until `stop`: its latency is the app's event-loop lag."""
    samples = Samples()
    while not stop.is_set():
        await timed(samples, client.get("/health", timeout=HEALTH_TIMEOUT))
        with_pause = interval - (samples.latencies_ms[-1] / 1000 if samples.latencies_ms else 0)
        await asyncio.sleep(max(with_pause, 0.001))
    return samples


async def lag_during(client: httpx.AsyncClient, load: Awaitable[None], *, interval: float = 0.02) -> Samples:
    """Run `load` while measuring /health; the lag samples taken while it ran."""
    stop = asyncio.Event()
    lag = asyncio.create_task(health_lag(client, stop, interval))
    try:
        await load
    finally:
        stop.set()
    return await lag


def app_client(url: str, *, timeout: float = 20.0, connections: int = 64) -> httpx.AsyncClient:
    """A client on the app; each measuring role gets its own so they never queue behind each other."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(timeout), limits=limits)


class OrderMaker:
    """Valid orders for products with plenty of stock, never the same product twice in one probe."""

    def __init__(self, deployment: Deployment, seed: int = 7) -> None:
        rows = deployment.query("SELECT id FROM products WHERE stock >= 500 ORDER BY id")
        self._free = [int(r[0]) for r in rows]
        random.Random(seed).shuffle(self._free)

    def body(self) -> dict[str, object]:
        product = self._free.pop()
        return {"customer_email": f"probe{product}@example.org", "items": [{"product_id": product, "quantity": 1}]}

    async def place(
        self, client: httpx.AsyncClient, samples: Samples, *, api_key: str = API_KEY
    ) -> httpx.Response | None:
        return await timed(samples, client.post("/orders", json=self.body(), headers={"X-API-Key": api_key}))


def place_orders(url: str, maker: OrderMaker, count: int) -> tuple[Samples, list[int]]:
    """`count` orders placed one after another; their samples and the ids of the orders created."""

    async def place() -> tuple[Samples, list[int]]:
        samples, created = Samples(), []
        async with app_client(url) as client:
            for _ in range(count):
                response = await maker.place(client, samples)
                if response is not None and response.status_code == 201:
                    created.append(int(response.json()["id"]))
        return samples, created

    return asyncio.run(place())


def lag_under_load(
    url: str,
    clients: int,
    duration: float,
    request: Callable[[httpx.AsyncClient, Samples], Awaitable[object]],
    *,
    interval: float = 0.02,
    grace: float = 0.3,
    ramp_until_ms: float | None = None,
) -> tuple[Samples, Samples]:
    """`clients` workers sending `request` back to back for `duration` seconds while /health is timed.

    Returns the load's samples and the /health samples (the event loop's lag). The window is bounded:
    at its end requests still in flight get `grace` seconds, then are abandoned; a /health still
    unanswered then counts with the time it has waited so far (a lower bound of the lag), so a frozen
    app costs no more time than a healthy one. With `ramp_until_ms`, the clients start two at a time,
    doubling every 0.1 s, and no more start once a /health has waited that long: the verdict is then
    decided, and a frozen app is not left with a long queue of requests to work off.
    """

    async def measure() -> tuple[Samples, Samples]:
        load, lag = Samples(), Samples()
        deadline = time.monotonic() + duration
        async with app_client(url) as client, app_client(url) as health:

            async def worker() -> None:
                while time.monotonic() < deadline:
                    await request(client, load)

            asked = [time.perf_counter()]  # when the /health in flight was sent

            def decided() -> bool:
                waited = max([*lag.latencies_ms, (time.perf_counter() - asked[0]) * 1000])
                return ramp_until_ms is not None and waited > ramp_until_ms

            async def poll() -> None:
                while time.monotonic() < deadline:
                    started = asked[0] = time.perf_counter()
                    wait = max(deadline - time.monotonic(), 0) + grace
                    try:
                        response = await asyncio.wait_for(health.get("/health", timeout=HEALTH_TIMEOUT), wait)
                    except TimeoutError:
                        lag.add(started, None, "unanswered at the end of the window")
                        return
                    except httpx.HTTPError as exc:
                        lag.add(started, None, type(exc).__name__)
                    else:
                        lag.add(started, response.status_code)
                    await asyncio.sleep(max(interval - lag.latencies_ms[-1] / 1000, 0.001))

            workers: list[asyncio.Task[None]] = []

            async def ramp() -> None:
                batch = clients if ramp_until_ms is None else min(2, clients)
                while len(workers) < clients and time.monotonic() < deadline and not decided():
                    workers.extend(asyncio.create_task(worker()) for _ in range(min(batch, clients - len(workers))))
                    batch = len(workers)
                    await asyncio.sleep(0.1)

            ramping = asyncio.create_task(ramp())
            await poll()
            await ramping
            _, pending = await asyncio.wait(workers, timeout=max(deadline - time.monotonic(), 0) + grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return load, lag

    return asyncio.run(measure())


def drained(url: str, *, below_ms: float = 100.0, limit_s: float = 10.0) -> float:
    """Wait (at most `limit_s`) until GET /health answers within `below_ms`: the app has worked off what
    an earlier measurement queued. Returns the seconds waited."""

    async def wait() -> float:
        started = time.monotonic()
        async with app_client(url) as client:
            while time.monotonic() - started < limit_s:
                asked = time.monotonic()
                with contextlib.suppress(httpx.HTTPError):
                    await client.get("/health", timeout=max(limit_s - (asked - started), 0.1))
                if (time.monotonic() - asked) * 1000 < below_ms:
                    break
        return time.monotonic() - started

    return asyncio.run(wait())


# --- every database-backed route: probes of a bug class drive all of them, not one ---------------

Request = Callable[[httpx.AsyncClient, Samples], Awaitable[object]]
Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Seeded:
    """Ids and addresses that exist in a fresh deployment's database, read with the grader's own SQL."""

    product_ids: list[int]
    emails: list[str]
    order_ids: list[int]

    @classmethod
    def read(cls, deployment: Deployment) -> Seeded:
        products = [int(r[0]) for r in deployment.query("SELECT id FROM products ORDER BY id")]
        emails = [str(r[0]) for r in deployment.query("SELECT email FROM customers ORDER BY id LIMIT 2000")]
        orders = [int(r[0]) for r in deployment.query("SELECT id FROM orders ORDER BY id LIMIT 5000")]
        return cls(products, emails, orders)


def route_requests(seeded: Seeded, maker: OrderMaker, seed: int = 3) -> dict[str, Send]:
    """One request per database-backed route group: product reads, the product list, a customer's
    history, order reads and checkout; each call picks a fresh random row (a new product to order)."""
    rng = random.Random(seed)

    def product_list(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        params: dict[str, str | int] = {"limit": 20, "offset": rng.randrange(0, max(1, len(seeded.product_ids) - 20))}
        if rng.random() < 0.5:
            params = {"limit": 20, "offset": rng.randrange(0, 200), "category": rng.choice(CATEGORIES)}
        return client.get("/products", params=params)

    return {
        "GET /products/{id}": lambda client: client.get(f"/products/{rng.choice(seeded.product_ids)}"),
        "GET /products": product_list,
        "GET /customers/{email}/orders": lambda client: client.get(f"/customers/{rng.choice(seeded.emails)}/orders"),
        "GET /orders/{id}": lambda client: client.get(f"/orders/{rng.choice(seeded.order_ids)}"),
        "POST /orders": lambda client: client.post("/orders", json=maker.body(), headers={"X-API-Key": API_KEY}),
    }


def timing(send: Send) -> Request:
    """`send` as a measured request for `lag_under_load`."""
    return lambda client, samples: timed(samples, send(client))


ROUTE_SUCCESS = {"POST /orders": 201}  # every other route group answers 200


def answers(samples: Samples) -> str:
    """What came back, for a message: `{201: 9, 503: 2}`, with transport errors if any."""
    errors = f" and errors {samples.errors}" if samples.errors else ""
    return f"{samples.statuses}{errors}"


class Shared(Generic[T]):
    """Measurements that several probes read from one deployment: taken once per grade, by whichever of
    them runs first (a deployment costs seconds; a grade runs every probe with the same target).

    `measure(target)` deploys and measures; its result is kept until each of `members` has read it.
    """

    def __init__(self, members: tuple[str, ...], measure: Callable[[ProbeTarget], T]) -> None:
        self._members = frozenset(members)
        self._measure = measure
        self._taken: dict[int, tuple[ProbeTarget, T, set[str]]] = {}
        self._read: dict[int, tuple[ProbeTarget, set[str]]] = {}  # who has had a reading, per target

    def get(self, target: ProbeTarget, member: str) -> T:
        read = self._read.get(id(target))
        if read is None or read[0] is not target:
            read = (target, set())
            self._read[id(target)] = read
        if member in read[1]:  # asked again (a borderline re-measurement): a fresh deployment, its own
            return self._measure(target)
        read[1].add(member)
        kept = self._taken.get(id(target))
        if kept is None or kept[0] is not target:
            kept = (target, self._measure(target), set())
            self._taken[id(target)] = kept
        kept[2].add(member)
        if kept[2] >= self._members:
            del self._taken[id(target)]
        return kept[1]
