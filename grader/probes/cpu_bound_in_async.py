"""cpu-bound-in-async: PBKDF2 on the event loop freezes every other request while a key is checked.

Three clients send orders with the right prefix and a fresh wrong secret each time: every one must be
hashed in full (a cache of accepted keys, a fair optimisation, cannot skip it) and answered 401. A
fourth client places real orders with the valid key meanwhile, so a lock-out that stops hashing after
some wrong keys cannot pass: either it refuses the valid key too, or it answers the wrong ones without
checking them: anything but 401, or a 401 sooner than one PBKDF2 of the key's row takes here (timed in
the grader before the run), is a key that was not checked.
"""

from __future__ import annotations

import hashlib
import secrets
import time

import httpx

from grader.kitdata import API_KEY
from grader.probes._base import ProbeResult, ProbeTarget, inconclusive, judge
from grader.probes._measure import OrderMaker, Samples, answers, lag_under_load, percentile, summary, timed
from grader.probes._together import LOOP_LAG
from grader.runner.deploy import Deployment

BUG = "cpu-bound-in-async"
METRIC = "health_p90_ms"
WRONG_KEY_CLIENTS = 3
DURATION = 2.0
MIN_CHECKS = 3
MIN_VALID_OK = 0.8  # of the valid-key orders
MAX_UNCHECKED = 0.05  # of the wrong keys, answered anything but 401
FASTEST_CHECK = 0.35  # of one PBKDF2 here: a median wrong-key answer sooner than this skipped the hash
PREFIX = API_KEY.split(".", 1)[0]
BODY = {"customer_email": "probe-keys@example.org", "items": [{"product_id": 1, "quantity": 1}]}


def probe(target: ProbeTarget) -> ProbeResult:
    return LOOP_LAG.get(target, BUG)[BUG]


def measure(deployment: Deployment) -> ProbeResult:
    """The lag while keys are checked (grader/probes/_together.py: before sync-db-driver)."""
    hash_ms = _one_hash_ms(int(deployment.scalar("SELECT iterations FROM api_keys WHERE prefix = %s", PREFIX)))
    maker = OrderMaker(deployment, seed=11)
    valid = Samples()
    turn = iter(range(10**9))

    async def one(client: httpx.AsyncClient, wrong: Samples) -> None:
        if next(turn) % (WRONG_KEY_CLIENTS + 1) == 0:
            await maker.place(client, valid)
            return
        headers = {"X-API-Key": f"{PREFIX}.{secrets.token_hex(10)}"}
        await timed(wrong, client.post("/orders", json=BODY, headers=headers))

    checks, lag = lag_under_load(deployment.url, WRONG_KEY_CLIENTS + 1, DURATION, one)
    evidence = {
        "clients": WRONG_KEY_CLIENTS + 1,
        "seconds": DURATION,
        "wrong_key_checks_ms": summary(checks.latencies_ms),
        "wrong_key_statuses": checks.statuses,
        "valid_key_orders_ms": summary(valid.latencies_ms),
        "valid_key_statuses": valid.statuses,
        "health_ms": summary(lag.latencies_ms),
        "one_pbkdf2_in_the_grader_ms": round(hash_ms, 1),
    }
    problems = []
    wrong_p50 = percentile(checks.latencies_ms, 50)
    if checks.latencies_ms and wrong_p50 < FASTEST_CHECK * hash_ms:
        problems.append(
            f"wrong keys answered in {wrong_p50:.1f} ms (median), sooner than one PBKDF2 takes ({hash_ms:.0f} ms):"
            " not checked"
        )
    wrong_total = len(checks.latencies_ms)
    if wrong_total - checks.ok(401) > MAX_UNCHECKED * max(wrong_total, 1):
        problems.append(f"wrong keys answered without a full check: {answers(checks)}")
    answered = sum(valid.statuses.values())  # a frozen app answers few: only what it answered is judged
    if answered and valid.ok(201) < MIN_VALID_OK * answered:
        problems.append(f"orders with the valid key were refused meanwhile: {answers(valid)}")
    if checks.ok(401) < MIN_CHECKS and not problems:
        return inconclusive(BUG, f"only {checks.ok(401)} wrong keys were answered 401", evidence)
    what = "p90 of GET /health while wrong API keys are checked among valid ones"
    return judge(BUG, percentile(lag.latencies_ms, 90), evidence, what=what, problems=problems)


def _one_hash_ms(iterations: int) -> float:
    """The quicker of two PBKDF2 runs in the grader (a busy moment only makes one slower)."""
    times = []
    for _ in range(2):
        started = time.perf_counter()
        hashlib.pbkdf2_hmac("sha256", b"probe." + secrets.token_bytes(8), secrets.token_bytes(16), iterations)
        times.append((time.perf_counter() - started) * 1000)
    return min(times)
