"""One deployment of a submission: a fresh database, a proxy in front of it, the app, the shared stub."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg2.extensions import connection

from grader.evidence.tampering import Attempt
from grader.infra.payments_stub import PaymentsStub
from grader.infra.pgproxy import PgProxy, start_pgproxy
from grader.infra.postgres import PostgresServer
from grader.infra.stack import Infrastructure
from grader.runner.app_process import AppProcess, run_app


@dataclass
class Deployment:
    """A running app and handles on everything it talks to."""

    app: AppProcess
    proxy: PgProxy
    stub: PaymentsStub
    pg: PostgresServer
    dbname: str
    # what the app tried that is not its own (grader.evidence.tampering), recorded by each source
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.app.url

    def sql(self) -> contextlib.closing[connection]:
        """A direct (unproxied) autocommit connection: the grader's own queries are never counted."""
        return contextlib.closing(self.pg.connect(self.dbname))

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with self.sql() as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []

    def scalar(self, sql: str, *params: object) -> Any:
        rows = self.query(sql, *params)
        return rows[0][0] if rows else None


@contextlib.contextmanager
def deploy(
    infra: Infrastructure,
    app_dir: Path,
    *,
    lifespan: str = "on",
    extra_env: Mapping[str, str] | None = None,
    asyncio_debug: bool = False,
) -> Iterator[Deployment]:
    """Start `app_dir` against a fresh copy of the seeded database; tear all of it down on exit."""
    infra.stub.reset(new_rates=True)  # each deployment its own exchange rates: no table can be copied
    dbname = infra.pg.create_database()
    try:
        with start_pgproxy(infra.pg.endpoint) as proxy:
            env = {"DATABASE_URL": proxy.dsn(dbname), "PAYMENTS_URL": infra.stub.url}
            with run_app(app_dir, env, lifespan=lifespan, extra_env=extra_env, asyncio_debug=asyncio_debug) as app:
                yield Deployment(app=app, proxy=proxy, stub=infra.stub, pg=infra.pg, dbname=dbname)
    finally:
        infra.pg.drop_database(dbname)
