"""One deployment of a submission: a fresh database, a proxy in front of it, the app, the shared stub."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg2.extensions import connection

from grader.evidence.pglog import server_log_attempts
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
    role: str | None = None  # the app's own database role (None: it was given the grader's, see pg)

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
    attempts: list[Attempt] | None = None,
) -> Iterator[Deployment]:
    """Start `app_dir` against a fresh copy of the seeded database; tear all of it down on exit.

    The app logs in with a role of its own, made for this deployment and dropped with it. What it tried
    that is not its own goes into `attempts` (the deployment's list), also when it never got started:
    the server log's refusals are read at teardown, once the app has stopped.
    """
    pg = infra.pg
    attempts = [] if attempts is None else attempts
    infra.stub.reset()
    log_from = pg.log_offset()
    dbname = pg.create_database()
    role = None
    try:
        role = pg.create_app_role(dbname)
        with start_pgproxy(pg.endpoint) as proxy:
            url = proxy.dsn(dbname, role.name, role.password) if role else proxy.dsn(dbname)
            env = {"DATABASE_URL": url, "PAYMENTS_URL": infra.stub.url}
            with run_app(app_dir, env, lifespan=lifespan, extra_env=extra_env, asyncio_debug=asyncio_debug) as app:
                yield Deployment(
                    app=app,
                    proxy=proxy,
                    stub=infra.stub,
                    pg=pg,
                    dbname=dbname,
                    attempts=attempts,
                    role=role.name if role else None,
                )
    finally:
        try:
            if role is not None:
                pg.end_sessions(role.name)  # first, so that their last errors are in the log
                attempts.extend(server_log_attempts(pg.log_records(log_from), role.name, dbname))
        finally:
            try:
                pg.drop_database(dbname)
            finally:
                if role is not None:
                    pg.drop_app_role(role.name)  # after its database, which held its grants
