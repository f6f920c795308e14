"""The services your app talks to: PostgreSQL holding the seed, behind a TCP proxy, and the payments stub."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.payments_stub import PaymentsStub, start_payments_stub
from tools.pgproxy import PgProxy, start_pgproxy
from tools.postgres import PostgresServer, embedded_postgres, external_postgres

SEED_DIR = Path(__file__).resolve().parents[1] / "db"  # the kit's schema and seed


@dataclass(frozen=True)
class Database:
    """A fresh copy of the seeded database, reached over TCP through the proxy (as the grader does)."""

    url: str  # the app's DATABASE_URL
    proxy: PgProxy


@dataclass(frozen=True)
class Stack:
    database: Database
    payments: PaymentsStub

    @property
    def env(self) -> dict[str, str]:
        """The app's whole required configuration."""
        return {"DATABASE_URL": self.database.url, "PAYMENTS_URL": self.payments.url}


@contextlib.contextmanager
def database(*, server_url: str | None = None, latency_ms: float = 0) -> Iterator[Database]:
    """An embedded server (or the one at `server_url`) with a seeded database; all removed on exit."""
    server: contextlib.AbstractContextManager[PostgresServer]
    server = external_postgres(server_url, SEED_DIR) if server_url else embedded_postgres(SEED_DIR)
    with server as pg:
        name = pg.create_database(prefix="shop")
        # the same kind of role the grader gives your app: the shop's tables to use, nothing to create
        role = pg.create_app_role(name)
        with start_pgproxy(pg.endpoint) as proxy:
            if latency_ms:
                proxy.configure(latency_ms=latency_ms)
            yield Database(proxy.dsn(name, role.name, role.password) if role else proxy.dsn(name), proxy)


@contextlib.contextmanager
def payments(faults: Mapping[str, Any] | None = None) -> Iterator[PaymentsStub]:
    """The payments stub, with `faults` (its /config format) switched on from the start."""
    with start_payments_stub() as stub:
        if faults:
            stub.configure(**faults)
        yield stub


@contextlib.contextmanager
def stack(
    *, server_url: str | None = None, db_latency_ms: float = 0, faults: Mapping[str, Any] | None = None
) -> Iterator[Stack]:
    with database(server_url=server_url, latency_ms=db_latency_ms) as db, payments(faults) as stub:
        yield Stack(db, stub)
