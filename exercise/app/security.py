"""API key authentication for write endpoints.

Keys look like ``<prefix>.<secret>``. The prefix identifies the row in
``api_keys``; the whole key is checked against the stored PBKDF2-HMAC-SHA256 hash.
"""

import hashlib
import hmac

from fastapi import Header, HTTPException, status
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app.config import settings
from app.models import ApiKey

# Keys are looked up on every write: a small pool of their own keeps those lookups cheap.
keys_engine = create_engine(
    settings.sqlalchemy_database_url,
    pool_size=2,
    max_overflow=0,
    connect_args={"connect_timeout": 5, "options": "-c statement_timeout=5000"},
)


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

    with Session(keys_engine) as session:
        api_key = session.scalars(
            select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
        ).first()
    if api_key is None:
        raise _unauthorized()

    digest = hashlib.pbkdf2_hmac("sha256", x_api_key.encode(), api_key.salt, api_key.iterations)
    if not hmac.compare_digest(digest, api_key.hash):
        raise _unauthorized()
    return api_key
