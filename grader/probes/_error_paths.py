"""One tour of every database-backed route and every error path, shared by two probes.

no-connection-pool judges the new connections each path makes (the proxy counts them) and what the app
holds at start-up and idle; connection-leak-on-error judges what each path leaves behind. A pool or a
leak can live on any path, so the tour takes them all, in one deployment, in this order:

1. start-up: what the app opened before any request; then a burst like the last one (5.), so that
   every pool has grown to its size before anything is counted;
2. checkout answered 201, while the payments API is healthy;
3. the payments API hangs: 3 orders wait for their 504 and 3 more whose clients disconnect mid-request;
   while they wait, the read routes (product, product list, customer history, order) and the 404, 409,
   422 and 401 paths run one request at a time; then the hang ends (released after 6 s at most);
4. 502: the payments API answers 503 to every attempt (4 orders at once);
5. a last burst of every read route and some checkouts, by twice as many clients as the app holds
   connections (64 at least): every connection a pool can still lend is lent, so one that does
   nothing in it was left checked out; the path where it was last active is the one that leaked it.

After each path, once the app has been quiet for 0.25 s (no traffic, so no garbage collection hides a
leak), the app's backends idle in a transaction that the path left are counted (pg_stat_activity).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from grader.kitdata import API_KEY
from grader.probes._base import ProbeTarget
from grader.probes._measure import (
    OrderMaker,
    Samples,
    Seeded,
    Shared,
    app_client,
    closed_loop,
    route_requests,
    timed,
)
from grader.runner.deploy import Deployment

QUIET_S = 0.25
BURST_CLIENTS = 64  # more than any sane pool holds: every connection it can lend is lent
BURST_ABOVE_HELD = 32  # ... and more than the app holds, however many that is
BURST_CLIENTS_MAX = 400
BURST_S = 0.5
WARM_UP_S = 0.2
BURST_GRACE_S = 1.0  # then what is still running is abandoned
BURST_DB_LATENCY_MS = 10
READS_PER_ROUTE = 10
ERRORS_PER_PATH = 4
HANGING = 3  # orders per hang path (504, client disconnect)
HANG_LIMIT_S = 6.0  # the hang is released after this long: the 504s not answered by then get the stub's 503
DISCONNECT_AFTER_S = 0.2
SETTLE_S = 3.0
REQUEST_TIMEOUT_S = 10.0
PREFIX = API_KEY.split(".", 1)[0]
UNKNOWN_ID = 900_000_001

_APP_BACKENDS = "datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
_IDLE_IN_TRANSACTION = f"""
    SELECT pid FROM pg_stat_activity
    WHERE {_APP_BACKENDS} AND state LIKE 'idle in transaction%%'
      AND state_change >= %s AND now() - state_change > interval '150 milliseconds'
"""
_IN_TRANSACTION = f"SELECT pid FROM pg_stat_activity WHERE {_APP_BACKENDS} AND state LIKE 'idle in transaction%%'"
_BUSY = f"SELECT count(*) FROM pg_stat_activity WHERE {_APP_BACKENDS} AND state = 'active'"
ANSWERED = "payments hang, answered"


@dataclass
class Path:
    """One route or error path: what was sent, what came back, and what it did to the connections."""

    name: str
    expected: int
    concurrency: int = 1
    samples: Samples = field(default_factory=Samples)
    opened: int = 0  # new connections the proxy saw while it ran
    idle_in_transaction: int = 0  # the app's backends it left idle in a transaction
    left_checked_out: int = 0  # connections last active in it and never lent again in the last burst
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.samples.latencies_ms)

    @property
    def new_per_100(self) -> float:
        """New connections per 100 requests; concurrent requests may first grow a pool by one each."""
        slack = self.concurrency if self.concurrency > 1 else 0
        return max(self.opened - slack, 0) * 100 / max(self.requests, 1)

    @property
    def leaked(self) -> int:
        return max(self.idle_in_transaction, self.left_checked_out)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "concurrency": self.concurrency,
            "expected_status": self.expected,
            "statuses": self.samples.statuses,
            "errors": self.samples.errors,
            "new_connections": self.opened,
            "new_connections_per_100_requests": round(self.new_per_100, 1),
            "idle_in_transaction_after": self.idle_in_transaction,
            "left_checked_out": self.left_checked_out,
            "seconds": round(self.seconds, 2),
        }


@dataclass
class Tour:
    startup_opened: int  # connections the app opened before its first request
    startup_open: int
    idle_open: int  # connections it holds, quiet, after the tour
    open_max: int
    paths: list[Path]
    burst: Samples

    def path(self, name: str) -> Path:
        return next(path for path in self.paths if path.name == name)


class _Activity:
    """Which path each live connection was last active in (its statement count grew), from the proxy."""

    def __init__(self, deployment: Deployment) -> None:
        self._proxy = deployment.proxy
        self._statements: dict[int, int] = {}
        self.last: dict[int, str] = {}
        self.stats: dict[str, Any] = {}

    def mark(self, path: str) -> dict[str, Any]:
        self.stats = self._proxy.stats()
        for record in self.stats["connections"]:
            if record["outcome"] == "open" and record["statements"] != self._statements.get(record["id"]):
                self._statements[record["id"]] = record["statements"]
                self.last[record["id"]] = path
        return self.stats

    def opened(self) -> int:
        return int(self.stats["connections_opened"])

    def live(self) -> dict[int, int]:
        return {int(r["id"]): int(r["statements"]) for r in self.stats["connections"] if r["outcome"] == "open"}


def _take_tour(target: ProbeTarget) -> Tour:
    with target.deploy() as deployment:
        return asyncio.run(_Tourist(deployment).run())


TOUR = Shared(("no-connection-pool", "connection-leak-on-error"), _take_tour)


def tour_for(target: ProbeTarget, probe: str) -> Tour:
    """The tour of this submission: taken once, for whichever of the two probes asks first."""
    return TOUR.get(target, probe)


async def _poll(done: Callable[[], bool], limit_s: float, every_s: float = 0.05) -> None:
    """Until `done()` (a real check), for `limit_s` at most."""
    for _ in range(max(1, round(limit_s / every_s))):
        if done():
            return
        await asyncio.sleep(every_s)


Call = Callable[[], Awaitable[httpx.Response]]


class _Tourist:
    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.activity = _Activity(deployment)
        self.paths: list[Path] = []
        self.seeded = Seeded.read(deployment)
        self.maker = OrderMaker(deployment)
        self.client = app_client(deployment.url, timeout=REQUEST_TIMEOUT_S)

    def _now(self) -> datetime:
        now: datetime = self.deployment.scalar("SELECT clock_timestamp()")
        return now

    def _idle_in_transaction(self, since: datetime) -> set[int]:
        return {int(row[0]) for row in self.deployment.query(_IDLE_IN_TRANSACTION, since)}

    def _in_transaction(self) -> set[int]:
        return {int(row[0]) for row in self.deployment.query(_IN_TRANSACTION)}

    async def _settle(self) -> None:
        """Until no backend of the app is running a statement (bounded), then quiet."""
        await _poll(lambda: not int(self.deployment.scalar(_BUSY) or 0), SETTLE_S)
        await asyncio.sleep(QUIET_S)

    async def _hanging(self, count: int) -> None:
        await _poll(lambda: int(self.deployment.stub.stats()["hanging"]) >= count, 5.0)

    def _order(self, body: dict[str, Any] | None = None, key: str = API_KEY) -> Call:
        chosen = body if body is not None else self.maker.body()
        return lambda: self.client.post("/orders", json=chosen, headers={"X-API-Key": key})

    async def _measured(self, path: Path, run: Awaitable[object]) -> Path:
        """Run a path, then count what it opened and what it left idle in a transaction."""
        since, opened, started = self._now(), self.activity.opened(), time.monotonic()
        await run
        await self._settle()
        path.seconds = time.monotonic() - started
        path.opened = int(self.activity.mark(path.name)["connections_opened"]) - opened
        path.idle_in_transaction = len(self._idle_in_transaction(since))
        self.paths.append(path)
        return path

    async def _sequential(self, name: str, expected: int, calls: list[Call]) -> Path:
        path = Path(name, expected)

        async def run() -> None:
            for call in calls:
                await timed(path.samples, call())

        return await self._measured(path, run())

    async def _burst(self, samples: Samples, seconds: float = BURST_S) -> None:
        """Every read route and some checkouts at once, by twice as many clients as the app holds
        connections (64 at least): a pool of any route is asked for more than it has."""
        held = len(self.activity.live())
        clients = min(max(BURST_CLIENTS, 2 * held + BURST_ABOVE_HELD), BURST_CLIENTS_MAX)
        sends = route_requests(self.seeded, self.maker, seed=5)
        reads = [send for name, send in sends.items() if name != "POST /orders"]
        mix = [*reads, *reads, sends["POST /orders"]]  # one in nine a checkout: a pool used for writes too
        async with app_client(self.deployment.url, timeout=REQUEST_TIMEOUT_S, connections=clients) as client:

            async def one(worker: int) -> None:
                await timed(samples, mix[worker % len(mix)](client))

            await closed_loop(clients, seconds, one, grace=BURST_GRACE_S)

    async def run(self) -> Tour:
        started = self.activity.mark("start-up")
        async with self.client:
            await self._burst(Samples(), WARM_UP_S)
            await self._settle()
            self.activity.mark("warm-up")
            await self._sequential("POST /orders (201)", 201, [self._order() for _ in range(ERRORS_PER_PATH)])
            await self._while_payments_hang()
            await self._failing_payments()
            burst = await self._last_burst()
        return Tour(
            int(started["connections_opened"]),
            int(started["connections_open"]),
            int(self.deployment.proxy.stats()["connections_open"]),
            int(self.activity.stats["connections_open_max"]),
            self.paths,
            burst,
        )

    async def _while_payments_hang(self) -> None:
        """Orders waiting on a hanging payments API (504, and clients that leave), the rest meanwhile."""
        stub, activity = self.deployment.stub, self.activity
        timeout_path = Path("payments hang (504)", 504, HANGING)
        leaving_path = Path("client disconnect mid-request", 201, HANGING)
        stub.configure(charges={"hang": True})
        hang_started = time.monotonic()
        opened = activity.opened()
        waiting = [asyncio.create_task(timed(timeout_path.samples, self._order()())) for _ in range(HANGING)]
        await self._hanging(HANGING)
        timeout_pids = self._in_transaction()
        timeout_path.opened = int(activity.mark(timeout_path.name)["connections_opened"]) - opened
        opened = activity.opened()
        async with app_client(self.deployment.url, timeout=REQUEST_TIMEOUT_S) as leaving:
            bodies = [self.maker.body() for _ in range(HANGING)]
            gone = [
                asyncio.create_task(leaving.post("/orders", json=body, headers={"X-API-Key": API_KEY}))
                for body in bodies
            ]
            await self._hanging(2 * HANGING)
            await asyncio.sleep(DISCONNECT_AFTER_S)
            for task in gone:
                task.cancel()
            await asyncio.gather(*gone, return_exceptions=True)
        for _ in gone:
            leaving_path.samples.add(time.perf_counter(), None, "disconnected by the probe")
        leaving_pids = self._in_transaction() - timeout_pids
        leaving_path.opened = int(activity.mark(leaving_path.name)["connections_opened"]) - opened

        await self._other_paths()

        left = HANG_LIMIT_S - (time.monotonic() - hang_started)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), max(left, 0.1))
        opened = activity.opened()
        stub.configure(charges={"hang": False})  # releases whatever still hangs
        await asyncio.gather(*waiting, return_exceptions=True)
        await self._settle()
        still = self._in_transaction()
        timeout_path.idle_in_transaction = len(still & timeout_pids)
        leaving_path.idle_in_transaction = len(still & leaving_pids)
        timeout_path.opened += int(activity.mark(ANSWERED)["connections_opened"]) - opened
        timeout_path.seconds = leaving_path.seconds = time.monotonic() - hang_started
        self.paths += [timeout_path, leaving_path]

    async def _other_paths(self) -> None:
        """The read routes and the 404, 409, 422 and 401 paths, one request at a time."""
        client = self.client
        for name, send in route_requests(self.seeded, self.maker).items():
            if name != "POST /orders":
                calls: list[Call] = [lambda send=send: send(client) for _ in range(READS_PER_ROUTE)]  # type: ignore[misc]
                await self._sequential(f"{name} (200)", 200, calls)
        unknown = [{"product_id": UNKNOWN_ID, "quantity": 1}]
        await self._sequential(
            "404 (unknown product, order, customer; an order for an unknown product)",
            404,
            [
                *(lambda: client.get(f"/products/{UNKNOWN_ID}") for _ in range(2)),
                *(lambda: client.get(f"/orders/{UNKNOWN_ID}") for _ in range(2)),
                *(lambda n=n: client.get(f"/customers/nobody{n}@example.org/orders") for n in range(2)),
                *(self._order({"customer_email": f"unknown{n}@example.org", "items": unknown}) for n in range(4)),
            ],
        )
        scarce = self.deployment.query("SELECT id, stock FROM products WHERE stock < 4 ORDER BY id LIMIT %s", 4)
        await self._sequential(
            "409 stock-out",
            409,
            [self._order(_stock_out(int(pid), int(stock))) for pid, stock in scarce],
        )
        await self._sequential("422 bad body", 422, [self._order(body) for body in _bad_bodies(self.maker)])
        wrong = [self._order(key=f"{PREFIX}.wrong{n:016d}") for n in range(ERRORS_PER_PATH)]
        await self._sequential("401 wrong API key", 401, wrong)

    async def _failing_payments(self) -> None:
        """Orders while the payments API answers 503 to every attempt: the app gives up with 502."""
        self.deployment.stub.configure(charges={"fail_first": 1000, "failure": "503"})
        path = Path("payments failing (502)", 502, ERRORS_PER_PATH)
        gate = asyncio.Semaphore(path.concurrency)

        async def failed_order() -> None:
            async with gate:
                await timed(path.samples, self._order()())

        async def run() -> None:
            await asyncio.gather(*(failed_order() for _ in range(ERRORS_PER_PATH)))

        await self._measured(path, run())
        self.deployment.stub.configure(charges={"fail_first": 0})

    async def _last_burst(self) -> Samples:
        """Every connection the pool can still lend is lent: one alive that does nothing was left checked out."""
        before = self.activity.live()
        self.deployment.proxy.configure(latency_ms=BURST_DB_LATENCY_MS)
        burst = Samples()
        try:
            await self._burst(burst)
        finally:
            self.deployment.proxy.configure(latency_ms=0)
        await self._settle()
        self.activity.mark("last burst")
        after = self.activity.live()
        by_name = {path.name: path for path in self.paths}
        by_name[ANSWERED] = by_name["payments hang (504)"]
        for connection, statements in before.items():
            if after.get(connection) == statements:  # alive, and never lent in the burst
                leaked_in = by_name.get(self.activity.last.get(connection, ""))
                if leaked_in is not None:
                    leaked_in.left_checked_out += 1
        return burst


def _stock_out(product: int, stock: int) -> dict[str, Any]:
    items = [{"product_id": product, "quantity": stock + 1}]
    return {"customer_email": f"stockout{product}@example.org", "items": items}


def _bad_bodies(maker: OrderMaker) -> list[dict[str, Any]]:
    """Bodies the contract answers 422 that fail before any charge, even in an app that never validates."""
    good = maker.body()
    return [
        {"customer_email": good["customer_email"]},
        {"items": good["items"]},
        {"customer_email": good["customer_email"], "items": "none"},
        {"customer_email": good["customer_email"], "items": [{"product_id": 5, "quantity": "two"}]},
    ]
