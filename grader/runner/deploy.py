"""One deployment of a submission: a fresh database, a proxy in front of it, the app, the shared stub.

Where the sandbox has network namespaces, each deployment gets one: the proxy's client port and a data
port of the stub's are made inside it, the app joins it, and nothing else listens there. What the app
asked of the proxy or the stub that is the grader's alone is recorded on the deployment as attempts.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg2.extensions import connection

from grader.evidence.pglog import server_log_attempts
from grader.evidence.tampering import Attempt
from grader.infra import NetNamespace, ServiceError
from grader.infra.payments_stub import PaymentsStub
from grader.infra.pgproxy import PgProxy, start_pgproxy
from grader.infra.postgres import PostgresServer
from grader.infra.stack import Infrastructure
from grader.runner._sandbox import sandbox
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
    the server log's refusals and the proxy's and stub's counts are read at teardown, once it has stopped.
    """
    pg = infra.pg
    attempts = [] if attempts is None else attempts
    infra.stub.reset(new_rates=True)  # each deployment its own exchange rates: no table can be copied
    log_from = pg.log_offset()
    dbname = pg.create_database()
    role = None
    try:
        role = pg.create_app_role(dbname)
        with (
            network() as netns,
            _proxy_listener(netns) as listener,
            start_pgproxy(pg.endpoint, listener) as proxy,
            infra.stub.data_listener(netns) as payments_url,
        ):
            if listener is not None:
                listener.close()  # the proxy holds it now
            url = proxy.dsn(dbname, role.name, role.password) if role else proxy.dsn(dbname)
            env = {"DATABASE_URL": url, "PAYMENTS_URL": payments_url}
            stub_before = infra.stub.tampering()
            deployment: Deployment | None = None
            try:
                with run_app(
                    app_dir, env, lifespan=lifespan, extra_env=extra_env, asyncio_debug=asyncio_debug, netns=netns
                ) as app:
                    deployment = Deployment(
                        app=app,
                        proxy=proxy,
                        stub=infra.stub,
                        pg=pg,
                        dbname=dbname,
                        attempts=attempts,
                        role=role.name if role else None,
                    )
                    yield deployment
            finally:
                if deployment is not None:  # the app is stopped: all it did is counted
                    attempts += escape_attempts(deployment.app)
                # a service that died has its own error on the way; it must not hide it
                with contextlib.suppress(ServiceError):
                    attempts += control_attempts(proxy.tampering(), {}, "PostgreSQL proxy")
                    attempts += control_attempts(infra.stub.tampering(), stub_before, "payments stub")
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


@contextlib.contextmanager
def network() -> Iterator[NetNamespace | None]:
    """A fresh network namespace for one deployment when the sandbox has them, else None."""
    if not sandbox().network:
        yield None
        return
    netns = NetNamespace.create()
    try:
        yield netns
    finally:
        netns.close()


@contextlib.contextmanager
def _proxy_listener(netns: NetNamespace | None) -> Iterator[socket.socket | None]:
    if netns is None:
        yield None
        return
    listener = netns.listener()
    try:
        yield listener
    finally:
        listener.close()


def control_attempts(counts: Mapping[str, int], before: Mapping[str, int], seen: str) -> list[Attempt]:
    """An attempt for each thing counted since `before`: the control API looked for or refused."""
    return [
        Attempt(kind="control-port", what=what, seen=seen, count=count - before.get(what, 0))
        for what, count in sorted(counts.items())
        if count > before.get(what, 0)
    ]


def escape_attempts(app: AppProcess) -> list[Attempt]:
    """An attempt for each process of the app seen leaving its session (it died with the app all the same)."""
    return [
        Attempt(kind="process-escape", what=f"left the app's session (setsid): {command}", seen="process tracker")
        for command in sorted(set(app.escapes.values()))
    ]
