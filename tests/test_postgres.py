"""PostgreSQL for a grade: the embedded server, or the one named by DATABASE_URL."""

from __future__ import annotations

import contextlib

import psycopg2
import pytest

from grader.infra.pgproxy import start_pgproxy
from grader.infra.postgres import postgres_server
from grader.infra.stack import SEED_DIR, Infrastructure


def _databases(infra: Infrastructure) -> set[str]:
    with contextlib.closing(infra.pg.connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database")
        return {row[0] for row in cur.fetchall()}


def test_database_url_server_gets_seeded_databases_that_are_dropped_afterwards(infra: Infrastructure) -> None:
    """With DATABASE_URL (here: the embedded server reached over TCP), the grade creates and drops its own."""
    before = _databases(infra)
    with start_pgproxy(infra.pg.endpoint) as proxy, postgres_server(SEED_DIR, proxy.dsn("postgres")) as external:
        assert not external.endpoint.is_unix
        name = external.create_database()
        with contextlib.closing(external.connect(name)) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM products")
            assert cur.fetchone() == (10_000,)
        assert name in _databases(infra)
    assert _databases(infra) == before


def test_a_database_url_that_is_not_postgresql_is_refused() -> None:
    """A clear error, before anything is started."""
    with pytest.raises(ValueError, match="postgresql://"), postgres_server(SEED_DIR, "mysql://localhost/db"):
        pass


def test_an_unreachable_database_url_fails_with_the_driver_error() -> None:
    """Nothing listens on port 1: the grade stops at once with the connection error."""
    unreachable = "postgresql://postgres@127.0.0.1:1/x"
    with pytest.raises(psycopg2.OperationalError), postgres_server(SEED_DIR, unreachable) as pg:
        pg.create_database()
