"""Everything a grade runs on, started together and torn down whatever happens."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .payments_stub import PaymentsStub, start_payments_stub
from .postgres import PostgresServer, postgres_server

SEED_DIR = Path(__file__).resolve().parents[2] / "db"  # the repository's schema and seed


@dataclass(frozen=True)
class Infrastructure:
    """PostgreSQL (embedded or $DATABASE_URL) and the payments stub; proxies come per deployment."""

    pg: PostgresServer
    stub: PaymentsStub


@contextlib.contextmanager
def infrastructure(database_url: str | None = None, *, seed: int | None = None) -> Iterator[Infrastructure]:
    """`seed` fixes the stub's exchange rates (a grade passes its own, so it is reproducible); None: random."""
    with postgres_server(SEED_DIR, database_url) as pg, start_payments_stub(seed) as stub:
        pg.seeded_template()  # seed once, up front: every deployment copies it
        yield Infrastructure(pg=pg, stub=stub)
