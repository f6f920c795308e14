"""API key authentication for write endpoints.

Keys look like ``<prefix>.<secret>``. The prefix identifies the row in
``api_keys``; the whole key is checked against the stored PBKDF2-HMAC-SHA256 hash.
"""

import hashlib
import hmac
import time

from fastapi import Header, HTTPException, status
from sqlalchemy import select

from app.db import SessionLocal
from app.models import ApiKey


MAX_FAILURES = 3
LOCKOUT_S = 60.0

_failures: dict[str, list[float]] = {}
_locked_until: dict[str, float] = {}


def _unauthorized() -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Invalid or missing API key",
    )


async def require_api_key(x_api_key: str | None = Header(default=None)) -> ApiKey:
    """Resolve the `X-API-Key` header to an active API key, or answer 401."""
    if not x_api_key:
        raise _unauthorized()
    prefix, _, _ = x_api_key.partition(".")

    with SessionLocal() as session:
        api_key = session.scalars(
            select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
        ).first()
    if api_key is None:
        raise _unauthorized()

    # Brute force is answered without hashing: PBKDF2 is expensive, attackers must not make us spend it.
    now = time.monotonic()
    if _locked_until.get(prefix, 0.0) > now:
        raise _unauthorized()
    digest = hashlib.pbkdf2_hmac("sha256", x_api_key.encode(), api_key.salt, api_key.iterations)
    if not hmac.compare_digest(digest, api_key.hash):
        _failures[prefix] = [t for t in _failures.get(prefix, []) if t > now - LOCKOUT_S] + [now]
        if len(_failures[prefix]) >= MAX_FAILURES:
            _locked_until[prefix] = now + LOCKOUT_S
            _failures[prefix] = []
        raise _unauthorized()
    return api_key
