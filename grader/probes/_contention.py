"""Orders that race: bursts of POST /orders fired together, and the database read back afterwards.

Every burst goes out at once over connections opened beforehand, with the database's round trips slowed so
that the windows between a read and a write are wide: a race that exists shows on every run, not one in ten.
A request unanswered within `ANSWER_TIMEOUT_S` counts against the app (a whole service stuck behind a lock
is the worst way to lose a race).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from grader.kitdata import API_KEY
from grader.probes._measure import app_client
from grader.runner.deploy import Deployment

DB_LATENCY_MS = 15
# A burst an app works off, each order in turn behind the row lock, is answered within about 1.5 s (the
# evidence's `slowest_answer_s`); one it cannot is stuck for good (a sync driver waiting on a lock).
ANSWER_TIMEOUT_S = 5.0
STUCK_GRACE_S = 1.0
SETTLE_S = 0.5  # after a burst: let a connection that will be returned be returned before counting
IDLE_IN_TRANSACTION = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND state LIKE 'idle in transaction%%' AND now() - state_change > interval '300 milliseconds'
"""


@dataclass
class Burst:
    """What came back from one burst of orders."""

    statuses: list[int | str] = field(default_factory=list)  # a status, or the error's name
    slowest_s: float = 0.0  # from the burst's start to its last answer (or timeout)

    @property
    def counts(self) -> dict[str, int]:
        return {str(k): v for k, v in sorted(Counter(map(str, self.statuses)).items())}

    def count(self, status: int) -> int:
        return sum(s == status for s in self.statuses)

    @property
    def unanswered(self) -> int:
        return sum(not isinstance(s, int) for s in self.statuses)

    @property
    def failures(self) -> int:
        """Server errors and requests never answered."""
        return sum(not isinstance(s, int) or s >= 500 for s in self.statuses)


def order(email: str, items: Sequence[tuple[int, int]]) -> dict[str, Any]:
    return {"customer_email": email, "items": [{"product_id": p, "quantity": q} for p, q in items]}


async def _fire(client: httpx.AsyncClient, bodies: Sequence[dict[str, Any]]) -> Burst:
    gate = asyncio.Event()

    async def one(body: dict[str, Any]) -> int | str:
        await gate.wait()
        try:
            response = await client.post("/orders", json=body, headers={"X-API-Key": API_KEY})
        except httpx.HTTPError as exc:
            return type(exc).__name__
        return response.status_code

    tasks = [asyncio.create_task(one(body)) for body in bodies]
    await asyncio.sleep(0)  # every task is waiting at the gate
    started = time.monotonic()
    gate.set()
    statuses = list(await asyncio.gather(*tasks))
    return Burst(statuses, slowest_s=round(time.monotonic() - started, 2))


def bursts(deployment: Deployment, rounds: Sequence[Sequence[dict[str, Any]]], warm: dict[str, Any]) -> list[Burst]:
    """Each round's orders fired together, one round after another, on a slowed database.

    A round with orders left unanswered ends the run there: the service is stuck (a sync driver waiting on
    a row lock blocks its whole event loop), later rounds would only wait out the same timeout, and the
    app is stopped at once rather than given a graceful shutdown it cannot perform.
    """

    async def run() -> list[Burst]:
        width = max(len(r) for r in rounds)
        async with app_client(deployment.url, timeout=ANSWER_TIMEOUT_S, connections=width) as client:
            # One order first, alone: keys checked and cached, pools and statements warm, so that the
            # bursts race on the database and nowhere else.
            await client.post("/orders", json=warm, headers={"X-API-Key": API_KEY})
            await asyncio.gather(*(client.get("/health") for _ in range(width)))  # a connection each
            deployment.proxy.configure(latency_ms=DB_LATENCY_MS)
            done: list[Burst] = []
            for bodies in rounds:
                done.append(await _fire(client, bodies))
                if done[-1].unanswered:
                    break
            return done

    return asyncio.run(run())


def stop_if_stuck(deployment: Deployment, results: Sequence[Burst]) -> None:
    """A service that left orders unanswered is stopped now (after the probe read the database)."""
    if any(burst.unanswered for burst in results):
        deployment.app.terminate(grace=STUCK_GRACE_S)


def idle_in_transaction(deployment: Deployment) -> int:
    return int(deployment.scalar(IDLE_IN_TRANSACTION) or 0)
