"""Fixtures for the infrastructure services: one PostgreSQL, one proxy and one stub per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grader.infra.payments_stub import PaymentsStub, start_payments_stub
from grader.infra.pgproxy import PgProxy, start_pgproxy
from grader.infra.postgres import PostgresServer, postgres_server
from grader.infra.stack import SEED_DIR


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    with postgres_server(SEED_DIR) as server:
        yield server


@pytest.fixture(scope="session")
def pg_db(pg_server: PostgresServer) -> str:
    return pg_server.create_database("kit_infra_test")


@pytest.fixture(scope="session")
def session_proxy(pg_server: PostgresServer) -> Iterator[PgProxy]:
    with start_pgproxy(pg_server.endpoint) as proxy:
        yield proxy


@pytest.fixture
def proxy(session_proxy: PgProxy) -> PgProxy:
    """The session's proxy with no faults and zeroed counters."""
    session_proxy.configure(latency_ms=0, refuse_new=False)
    session_proxy.reset()
    return session_proxy


@pytest.fixture(scope="session")
def session_stub() -> Iterator[PaymentsStub]:
    with start_payments_stub() as stub:
        yield stub


@pytest.fixture
def stub(session_stub: PaymentsStub) -> PaymentsStub:
    """The session's stub with the default config and cleared counters."""
    session_stub.reset()
    return session_stub
