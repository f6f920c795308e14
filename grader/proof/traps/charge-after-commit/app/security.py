"""API keys: `<prefix>.<secret>`, looked up by prefix, verified with PBKDF2-HMAC-SHA256 off the event loop."""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from dataclasses import dataclass

import anyio.to_thread
from fastapi import HTTPException, status
from fastapi.security import APIKeyHeader
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import ApiKey

# auto_error=False: a missing header is answered 401 by verify_api_key, like a wrong one.
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)

_ACTIVE_KEY = select(ApiKey.id, ApiKey.name, ApiKey.salt, ApiKey.hash, ApiKey.iterations).where(
    ApiKey.prefix == bindparam("prefix"), ApiKey.revoked_at.is_(None)
)


@dataclass(frozen=True, slots=True)
class VerifiedKey:
    id: int
    prefix: str
    name: str


class VerifiedKeys:
    """Keys PBKDF2 has already accepted, so a client does not pay ~70 ms of CPU on every request.

    An entry is a SHA-256 of the presented key together with the row's stored hash: a rotated key
    misses, and revocation still takes effect at once because the row is read on every request.
    Only successes are remembered; a wrong key always costs the full hash.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[bytes, None] = OrderedDict()

    @staticmethod
    def _entry(presented: str, stored: bytes) -> bytes:
        return hashlib.sha256(presented.encode() + b"\0" + stored).digest()

    def __contains__(self, pair: tuple[str, bytes]) -> bool:
        entry = self._entry(*pair)
        if entry in self._entries:
            self._entries.move_to_end(entry)
            return True
        return False

    def add(self, presented: str, stored: bytes) -> None:
        self._entries[self._entry(presented, stored)] = None
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)


def _unauthorized() -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail="invalid or missing API key")


async def verify_api_key(
    presented: str | None, read_engine: AsyncEngine, limiter: anyio.CapacityLimiter, verified: VerifiedKeys
) -> VerifiedKey:
    """The active key matching `presented`, else 401 (missing, malformed, unknown, revoked or wrong)."""
    if not presented:
        raise _unauthorized()
    prefix, dot, _ = presented.partition(".")
    if not dot or not prefix:
        raise _unauthorized()
    # A connection of its own, back in the pool before the slow hash starts, not after it.
    async with read_engine.connect() as connection:
        row = (await connection.execute(_ACTIVE_KEY, {"prefix": prefix})).one_or_none()
    if row is None:  # prefixes are identifiers, not secrets: no need to burn CPU hiding which exist
        raise _unauthorized()
    if (presented, row.hash) in verified:
        return VerifiedKey(id=row.id, prefix=prefix, name=row.name)
    # ~70 ms of CPU: in a worker thread (hashlib releases the GIL), capped by `limiter` so hashing
    # never takes every core away from the event loop.
    digest = await anyio.to_thread.run_sync(
        hashlib.pbkdf2_hmac, "sha256", presented.encode(), row.salt, row.iterations, len(row.hash),
        limiter=limiter,
    )
    if not hmac.compare_digest(digest, row.hash):
        raise _unauthorized()
    verified.add(presented, row.hash)
    return VerifiedKey(id=row.id, prefix=prefix, name=row.name)
