"""X-API-Key check: the row is fetched on the pool, the PBKDF2 runs in a worker thread."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import asyncpg
from fastapi import HTTPException


def _denied() -> HTTPException:
    return HTTPException(401, "Invalid or missing API key")


async def check_key(pool: asyncpg.Pool, presented: str | None) -> str:
    """The key's name when `presented` is an active key, else 401."""
    prefix, dot, _ = (presented or "").partition(".")
    if not (prefix and dot):
        raise _denied()
    row = await pool.fetchrow(
        "SELECT name, salt, hash, iterations FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL", prefix
    )
    if row is None:
        raise _denied()
    digest = await asyncio.to_thread(
        hashlib.pbkdf2_hmac, "sha256", (presented or "").encode(), row["salt"], row["iterations"], len(row["hash"])
    )
    if not hmac.compare_digest(digest, row["hash"]):
        raise _denied()
    return str(row["name"])
