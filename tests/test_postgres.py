"""PostgreSQL for a grade: the embedded server, or the one named by DATABASE_URL."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest
from psycopg2.extensions import connection

from grader.infra import postgres
from grader.infra.pgproxy import start_pgproxy
from grader.infra.postgres import (
    SERVER_ENV,
    SUPERUSER_RESERVED,
    AppRole,
    app_grants_sql,
    app_role_sql,
    postgres_server,
)
from grader.infra.stack import SEED_DIR, Infrastructure

ROOT = Path(__file__).resolve().parents[1]


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


# --- the app's own role --------------------------------------------------------------------------


@pytest.fixture
def app_db(infra: Infrastructure) -> Iterator[tuple[str, AppRole]]:
    """A fresh copy of the seed with a role of its own, as a deployment gets; both dropped afterwards."""
    name = infra.pg.create_database()
    role = infra.pg.create_app_role(name)
    assert role is not None
    try:
        yield name, role
    finally:
        infra.pg.drop_database(name)
        infra.pg.drop_app_role(role.name)


@pytest.fixture
def as_app(infra: Infrastructure, app_db: tuple[str, AppRole]) -> Iterator[Callable[..., connection]]:
    """Connect as the app does: through a proxy, with the role's name and password."""
    opened: list[connection] = []
    with start_pgproxy(infra.pg.endpoint) as proxy:

        def connect(dbname: str | None = None) -> connection:
            name, role = app_db
            conn = psycopg2.connect(proxy.dsn(dbname or name, role.name, role.password), connect_timeout=10)
            conn.autocommit = True
            opened.append(conn)
            return conn

        try:
            yield connect
        finally:
            for conn in opened:
                conn.close()


def _role(name: str = "kit_app_0123456789ab", limit: int = 5) -> AppRole:
    return AppRole(name, "p" * 32, limit)


def test_role_sql_creates_a_login_with_no_power_and_a_connection_limit() -> None:
    """The role is a password login without any of the attributes that reach beyond its tables."""
    create = app_role_sql(_role(limit=7), "kit_app_db")[0]
    for attribute in ("LOGIN", "NOSUPERUSER", "NOCREATEDB", "NOCREATEROLE", "NOREPLICATION", "NOBYPASSRLS"):
        assert f" {attribute} " in create
    assert "NOINHERIT CONNECTION LIMIT 7 PASSWORD" in create


def test_role_sql_closes_its_database_to_everyone_else() -> None:
    """Its database is closed to PUBLIC and opened to the role alone."""
    assert app_role_sql(_role(), "kit_app_db")[1:] == [
        'REVOKE ALL ON DATABASE "kit_app_db" FROM PUBLIC',
        'GRANT CONNECT ON DATABASE "kit_app_db" TO "kit_app_0123456789ab"',
    ]


def test_role_grants_are_dml_on_tables_and_sequences_only() -> None:
    """Inside its database the role gets DML on the tables and use of the sequences, nothing to create."""
    grants = " ".join(app_grants_sql(_role()))
    assert "CREATE" not in grants
    assert "SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public" in grants
    assert "USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public" in grants


@pytest.mark.parametrize(
    ("role", "dbname"),
    [
        (_role('x"; DROP ROLE postgres; --'), "kit_app_db"),
        (_role(), 'db"; --'),
        (AppRole("kit_app_0123456789ab", "short", 5), "kit_app_db"),
        (AppRole("kit_app_0123456789ab", "p" * 20 + "'", 5), "kit_app_db"),
        (_role(limit=0), "kit_app_db"),
    ],
    ids=["role name", "database name", "short password", "quote in password", "no connections"],
)
def test_role_sql_refuses_what_it_did_not_make(role: AppRole, dbname: str) -> None:
    """Names and passwords are checked, never quoted into SQL as given."""
    with pytest.raises(ValueError, match=r"of ours|positive"):
        app_role_sql(role, dbname)


def test_app_role_reads_and_writes_the_kits_tables(as_app: Callable[..., connection]) -> None:
    """SELECT, INSERT (with its identity), UPDATE and DELETE on the kit's tables, as the contract needs."""
    with as_app().cursor() as cur:
        cur.execute("SELECT count(*) FROM products")
        assert cur.fetchone() == (10_000,)
        cur.execute("INSERT INTO customers (email) VALUES ('role@example.org') RETURNING id")
        (customer,) = cur.fetchone() or (None,)
        cur.execute("UPDATE products SET stock = stock - 1 WHERE id = 1")
        cur.execute("DELETE FROM customers WHERE id = %s", (customer,))
        assert cur.rowcount == 1


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT pg_read_file('{ROOT / 'grader' / 'catalogue.toml'}')",
        "SELECT pg_read_file('/proc/self/environ')",
        "SELECT pg_ls_dir('/')",
        "COPY (SELECT 1) TO PROGRAM 'true'",
        "COPY products TO '/tmp/kit-products.csv'",
        "SELECT lo_import('/etc/hostname')",
        "CREATE TABLE planted (id int)",
        "CREATE TEMP TABLE planted (id int)",
        "CREATE INDEX planted ON products (name)",
        "DROP TABLE audit_log",
        "ALTER TABLE products ADD COLUMN planted int",
        "TRUNCATE orders",
        "CREATE DATABASE planted",
        "CREATE ROLE planted SUPERUSER",
        "CREATE SCHEMA planted",
        "SET ROLE postgres",
        "ALTER SYSTEM SET max_connections = 10",
    ],
)
def test_app_role_is_refused_what_is_not_its_own(as_app: Callable[..., connection], sql: str) -> None:
    """Server files, programs, DDL, other databases and roles, server settings: each refused."""
    with as_app().cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute(sql)


@pytest.mark.parametrize("other", ["template", "postgres", "template1"])
def test_app_role_cannot_connect_to_other_databases(
    infra: Infrastructure, as_app: Callable[..., connection], other: str
) -> None:
    """The seeded template every deployment is copied from, and the server's own databases, are closed."""
    dbname = infra.pg.seeded_template() if other == "template" else other
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        as_app(dbname)


def test_no_login_without_the_password(infra: Infrastructure, app_db: tuple[str, AppRole]) -> None:
    """Every login needs its password: nobody logs in as the superuser by naming it."""
    with start_pgproxy(infra.pg.endpoint) as proxy, pytest.raises(psycopg2.OperationalError, match="password"):
        psycopg2.connect(f"postgresql://postgres:guessed@127.0.0.1:{proxy.port}/{app_db[0]}", connect_timeout=10)


def test_app_role_has_no_predefined_role_and_no_attribute(infra: Infrastructure, app_db: tuple[str, AppRole]) -> None:
    """Not a member of any role (pg_read_server_files, pg_execute_server_program, ...), no power of its own."""
    with contextlib.closing(infra.pg.connect()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_auth_members JOIN pg_roles ON pg_roles.oid = member WHERE rolname = %s",
            (app_db[1].name,),
        )
        assert cur.fetchone() == (0,)
        cur.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolinherit, rolcanlogin"
            " FROM pg_roles WHERE rolname = %s",
            (app_db[1].name,),
        )
        assert cur.fetchone() == (False, False, False, False, False, False, True)


def test_app_role_leaves_the_grader_slots_of_its_own(infra: Infrastructure, app_db: tuple[str, AppRole]) -> None:
    """Its connection limit leaves a quarter of the unreserved slots, and the reserved ones, to the grader."""
    with contextlib.closing(infra.pg.connect()) as conn, conn.cursor() as cur:
        cur.execute("SHOW max_connections")
        total = int((cur.fetchone() or ("0",))[0])
    assert app_db[1].connection_limit <= (total - SUPERUSER_RESERVED) * 3 // 4


def test_a_role_over_its_limit_is_refused_while_the_grader_connects(infra: Infrastructure) -> None:
    """A role holding its whole limit gets no more connections; the grader still does."""
    name = infra.pg.create_database()
    role = infra.pg.create_app_role(name, connection_limit=3)
    assert role is not None
    held: list[connection] = []
    try:
        with start_pgproxy(infra.pg.endpoint) as proxy:
            held += [psycopg2.connect(proxy.dsn(name, role.name, role.password)) for _ in range(3)]
            with pytest.raises(psycopg2.OperationalError, match="too many connections for role"):
                held.append(psycopg2.connect(proxy.dsn(name, role.name, role.password)))
            infra.pg.connect(name).close()
    finally:
        for conn in held:
            conn.close()
        infra.pg.drop_database(name)
        infra.pg.drop_app_role(role.name)


def test_dropping_an_app_role_ends_its_sessions(infra: Infrastructure, as_app: Callable[..., connection]) -> None:
    """At teardown the role's sessions are ended before it goes, so none outlives its deployment."""
    conn = as_app()
    with conn.cursor() as cur:
        cur.execute("SELECT current_user")
        (name,) = cur.fetchone() or ("",)
    infra.pg.end_sessions(name)
    with pytest.raises(psycopg2.OperationalError), conn.cursor() as cur:
        cur.execute("SELECT 1")


def test_refused_sql_is_in_the_server_log_with_its_role(
    infra: Infrastructure, app_db: tuple[str, AppRole], as_app: Callable[..., connection]
) -> None:
    """The server log holds the refusal with the role, the database and the statement that caused it."""
    since = infra.pg.log_offset()
    with as_app().cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("SELECT pg_read_file('/etc/hostname')")
    refused = [r for r in infra.pg.log_records(since) if r.get("user") == app_db[1].name]
    assert [(r["dbname"], r["state_code"], r["statement"]) for r in refused] == [
        (app_db[0], "42501", "SELECT pg_read_file('/etc/hostname')")
    ]


def test_server_runs_with_a_scrubbed_environment(infra: Infrastructure) -> None:
    """The postmaster's environment is the few variables it is given, none of the grader's."""
    assert infra.pg.pid is not None
    environ = Path(f"/proc/{infra.pg.pid}/environ").read_bytes().split(b"\0")
    assert {entry.split(b"=", 1)[0].decode() for entry in environ if entry} == set(SERVER_ENV)


def test_a_server_that_dies_at_start_up_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A postmaster that exits during start-up ends the wait at once, with its log, not after 30 s."""
    monkeypatch.setitem(postgres.SERVER_SETTINGS, "shared_buffers", "not-a-size")
    started = time.monotonic()
    with pytest.raises(postgres.ServerExited, match="postgres exited with 1"), postgres.embedded_postgres(SEED_DIR):
        pass
    assert time.monotonic() - started < postgres.START_TIMEOUT / 2


def test_a_database_url_role_that_cannot_create_roles_is_named_loudly(
    infra: Infrastructure, app_db: tuple[str, AppRole]
) -> None:
    """A DATABASE_URL role without CREATEROLE: no role is made, and the confinement says the app gets that one."""
    name, role = app_db
    with contextlib.closing(infra.pg.connect()) as conn, conn.cursor() as cur:
        cur.execute(f'GRANT CONNECT ON DATABASE postgres TO "{role.name}"')  # where the grader administers
    try:
        with start_pgproxy(infra.pg.endpoint) as proxy:
            url = proxy.dsn(name, role.name, role.password)
            with postgres_server(SEED_DIR, url) as db:
                assert db.create_app_role(name) is None
                assert db.confinement().startswith(f"database: NOT CONFINED: the DATABASE_URL role '{role.name}'")
    finally:
        with contextlib.closing(infra.pg.connect()) as conn, conn.cursor() as cur:
            cur.execute(f'REVOKE CONNECT ON DATABASE postgres FROM "{role.name}"')


def test_a_database_url_superuser_gets_a_role_per_deployment(infra: Infrastructure) -> None:
    """A DATABASE_URL role that may create roles: each app gets its own, and the confinement says so."""
    with start_pgproxy(infra.pg.endpoint) as proxy, postgres_server(SEED_DIR, proxy.dsn("postgres")) as external:
        name = external.create_database()
        role = external.create_app_role(name)
        assert role is not None
        assert external.confinement().startswith("database: a role per deployment")
        assert role.name in external.roles
    assert role.name not in _roles(infra)  # dropped with the grade's databases


def _roles(infra: Infrastructure) -> set[str]:
    with contextlib.closing(infra.pg.connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT rolname FROM pg_roles")
        return {row[0] for row in cur.fetchall()}
