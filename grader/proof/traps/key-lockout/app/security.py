"""API keys: `<prefix>.<secret>`, looked up by prefix, verified with PBKDF2-HMAC-SHA256; brute force locked out."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict, defaultdict, deque
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


class LockOut:
    """After `max_failures` wrong secrets for a key prefix within `window_s`, refuse it for `window_s`."""

    def __init__(self, max_failures: int = 3, window_s: float = 60.0) -> None:
        self._max_failures = max_failures
        self._window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._locked_until: dict[str, float] = {}

    def locked(self, prefix: str) -> bool:
        return self._locked_until.get(prefix, 0.0) > time.monotonic()

    def failed(self, prefix: str) -> None:
        now = time.monotonic()
        failures = self._failures[prefix]
        failures.append(now)
        while failures and failures[0] < now - self._window_s:
            failures.popleft()
        if len(failures) >= self._max_failures:
            self._locked_until[prefix] = now + self._window_s
            failures.clear()


_lockout = LockOut()


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
    # Brute force on a key is answered without hashing: PBKDF2 is ~70 ms of CPU, and an attacker
    # must not be able to make us spend it at will.
    if _lockout.locked(prefix):
        raise _unauthorized()
    digest = hashlib.pbkdf2_hmac("sha256", presented.encode(), row.salt, row.iterations, len(row.hash))
    if not hmac.compare_digest(digest, row.hash):
        _lockout.failed(prefix)
        raise _unauthorized()
    verified.add(presented, row.hash)
    return VerifiedKey(id=row.id, prefix=prefix, name=row.name)
