"""Settings, read once from the environment when the app starts (never at import)."""

from __future__ import annotations

import os

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url


def _default_hash_threads() -> int:
    # PBKDF2 is pure CPU: leave one core to the event loop so reads stay fast while keys are checked.
    return max(1, (os.cpu_count() or 2) - 1)


class Settings(BaseSettings):
    """Everything the service can be tuned by; only DATABASE_URL and PAYMENTS_URL are required."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    database_url: str
    payments_url: str

    # A fixed pool, no overflow: overflow connections are closed as soon as they are returned to a full
    # pool, so load that stays above pool_size would reconnect constantly. 20 keeps a 2-core box busy;
    # connections are opened on demand, so a quiet app holds few.
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    db_pool_timeout_s: float = Field(default=3.0, gt=0)  # waiting longer means overload: answer 503
    # Off: SQLAlchemy's asyncpg ping costs three round trips per checkout (BEGIN, ping, ROLLBACK). A
    # dropped connection instead fails one request (503) and makes the pool replace its connections.
    db_pool_pre_ping: bool = False
    db_connect_timeout_s: float = Field(default=5.0, gt=0)
    db_command_timeout_s: float = Field(default=10.0, gt=0)  # a stalled server never hangs a request
    # An order holds its products' row locks while the payments API answers; a hot product must not
    # queue every other order for it behind a hanging charge: give up (503) after this long.
    db_lock_timeout_ms: int = Field(default=2000, ge=0)

    payments_connect_timeout_s: float = Field(default=2.0, gt=0)
    payments_read_timeout_s: float = Field(default=2.0, gt=0)
    payments_write_timeout_s: float = Field(default=2.0, gt=0)
    payments_pool_timeout_s: float = Field(default=1.0, gt=0)
    payments_max_connections: int = Field(default=100, ge=1)
    payments_max_keepalive: int = Field(default=20, ge=0)
    payments_max_attempts: int = Field(default=3, ge=1)
    # One charge, retries included, never takes longer: the order is answered well within 10 s.
    payments_deadline_s: float = Field(default=5.0, gt=0)
    payments_backoff_initial_s: float = Field(default=0.1, ge=0)
    payments_backoff_max_s: float = Field(default=1.0, ge=0)
    payments_backoff_jitter_s: float = Field(default=0.1, ge=0)
    rates_ttl_s: float = Field(default=60.0, ge=0)

    # Orders hold a connection while the payments API answers; capping them keeps connections free
    # for reads when it hangs.
    orders_max_concurrency: int = Field(default=10, ge=1)
    orders_queue_timeout_s: float = Field(default=2.0, gt=0)
    auth_hash_threads: int = Field(default_factory=_default_hash_threads, ge=1)

    notify_workers: int = Field(default=8, ge=1)
    notify_max_attempts: int = Field(default=5, ge=1)
    notify_timeout_s: float = Field(default=10.0, gt=0)
    notify_backoff_initial_s: float = Field(default=0.2, ge=0)
    notify_backoff_max_s: float = Field(default=5.0, ge=0)
    notify_backoff_jitter_s: float = Field(default=0.5, ge=0)
    notify_queue_size: int = Field(default=10_000, ge=1)
    # Within the usual 10 s between SIGTERM and SIGKILL, after uvicorn has finished in-flight requests.
    shutdown_drain_timeout_s: float = Field(default=5.0, ge=0)

    @field_validator("payments_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def async_database_url(self) -> URL:
        """DATABASE_URL (libpq form, TCP or `?host=/socket/dir`) for SQLAlchemy's asyncpg driver."""
        url = make_url(self.database_url)
        if url.get_backend_name() != "postgresql":
            raise ValueError(f"DATABASE_URL must be a postgresql:// URL, not {url.drivername}://")
        query = dict(url.query)
        if "sslmode" in query:  # libpq's spelling; asyncpg calls it `ssl` and takes the same modes
            query["ssl"] = query.pop("sslmode")
        return url.set(drivername="postgresql+asyncpg", query=query)
