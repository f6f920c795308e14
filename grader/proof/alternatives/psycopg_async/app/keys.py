"""API keys. A verified key is remembered briefly (by a SHA-256 of the whole key), so PBKDF2 runs rarely,
and when it does it runs on a small thread pool, never on the event loop."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi import HTTPException

from app.pool import Pool


class KeyChecker:
    def __init__(self, pool: Pool, executor: ThreadPoolExecutor, ttl_s: float) -> None:
        self._pool = pool
        self._executor = executor
        self._ttl_s = ttl_s
        self._verified: dict[bytes, tuple[str, float]] = {}

    async def name_of(self, presented: str | None) -> str:
        if not presented or "." not in presented:
            raise HTTPException(401, "API key required")
        fingerprint = hashlib.sha256(presented.encode()).digest()
        known = self._verified.get(fingerprint)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        prefix = presented.split(".", 1)[0]
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT name, salt, hash, iterations FROM api_keys WHERE prefix = %s AND revoked_at IS NULL", (prefix,)
            )
            row = await cur.fetchone()
        if row is None:
            raise HTTPException(401, "API key not accepted")
        digest = await asyncio.get_running_loop().run_in_executor(
            self._executor, hashlib.pbkdf2_hmac, "sha256", presented.encode(), row["salt"], row["iterations"]
        )
        if not hmac.compare_digest(digest, row["hash"]):
            raise HTTPException(401, "API key not accepted")
        self._verified[fingerprint] = (row["name"], time.monotonic() + self._ttl_s)
        return str(row["name"])
