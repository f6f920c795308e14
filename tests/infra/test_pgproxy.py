"""The PostgreSQL proxy: real clients through a real proxy process to the embedded server."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import asyncpg
import psycopg2
import psycopg2.errors
import pytest

from grader.infra._pgwire import CANCEL_REQUEST, SSL_REQUEST, FrontendParser, Phase
from grader.infra._service import ControlError
from grader.infra._wait import wait_until
from grader.infra.pgproxy import PgProxy, start_pgproxy
from grader.infra.postgres import Endpoint, PostgresServer

# --- the wire parser, without sockets -------------------------------------------------------------


def _int32(value: int) -> bytes:
    return value.to_bytes(4, "big")


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + _int32(len(body) + 4) + body


def _startup() -> bytes:
    body = _int32(196608) + b"user\0postgres\0database\0db\0\0"
    return _int32(len(body) + 4) + body


SSL = _int32(8) + _int32(SSL_REQUEST)
SESSION = b"".join(
    [
        _startup(),
        _message(b"p", b"secret\0"),
        _message(b"Q", b"SELECT 1\0"),
        _message(b"P", b"\0SELECT $1\0\0\0"),
        _message(b"B", b"\0\0" + b"\0" * 6),
        _message(b"E", b"\0" + _int32(0)),
        _message(b"S", b""),
        _message(b"Q", b"SELECT '" + b"x" * 70_000 + b"'\0"),  # longer than any read
        _message(b"X", b""),
    ]
)
SESSION_KINDS = [b"p", b"Q", b"P", b"B", b"E", b"S", b"Q", b"X"]


def _parse(chunks: list[bytes], *, ssl_answer: bytes | None = None) -> tuple[FrontendParser, list[bytes]]:
    seen: list[bytes] = []
    parser = FrontendParser(lambda kind: seen.append(bytes([kind])))
    if ssl_answer is not None:
        parser.feed(SSL)
        assert parser.phase is Phase.AWAIT_ANSWER
        parser.server_answered(ssl_answer[0])
    for chunk in chunks:
        parser.feed(chunk)
    return parser, seen


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 13, 64, 4096, 65536])
def test_parser_finds_every_message_whatever_the_reads(size: int) -> None:
    """Messages are found and typed however the stream is cut into reads."""
    chunks = [SESSION[i : i + size] for i in range(0, len(SESSION), size)]
    parser, seen = _parse(chunks, ssl_answer=b"N")
    assert seen == SESSION_KINDS
    assert parser.phase is Phase.TYPED


def test_parser_stops_following_an_encrypted_stream() -> None:
    """After the server accepts SSL, the bytes are opaque and nothing is counted."""
    parser, seen = _parse([b"\x16\x03\x01" + b"\0" * 200, SESSION], ssl_answer=b"S")
    assert seen == []
    assert parser.phase is Phase.OPAQUE


def test_parser_marks_cancel_requests() -> None:
    """A CancelRequest packet marks the connection as a cancel connection."""
    parser, seen = _parse([_int32(16) + _int32(CANCEL_REQUEST) + _int32(1234) + _int32(5678)])
    assert parser.is_cancel
    assert seen == []


# --- the proxy process ------------------------------------------------------------------------------


def _records(proxy: PgProxy) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = proxy.stats()["connections"]
    return records


def _only_record(proxy: PgProxy) -> dict[str, Any]:
    records = _records(proxy)
    assert len(records) == 1, records
    return records[0]


def _wait_outcome(proxy: PgProxy, outcome: str, count: int = 1) -> list[dict[str, Any]]:
    def reached() -> bool:
        return sum(r["outcome"] == outcome for r in _records(proxy)) >= count  # type: ignore[no-any-return]

    wait_until(reached, timeout=10, what=f"{count} {outcome} connection(s)")
    return [r for r in _records(proxy) if r["outcome"] == outcome]


def _connect(proxy: PgProxy, db: str) -> Any:
    conn = psycopg2.connect(proxy.dsn(db), connect_timeout=10)
    conn.autocommit = True
    return conn


def test_psycopg2_queries_are_counted_and_close_is_graceful(proxy: PgProxy, pg_db: str) -> None:
    """psycopg2 sends simple queries ('Q'); conn.close() sends Terminate: a graceful close."""
    conn = _connect(proxy, pg_db)
    with conn.cursor() as cur:
        for value in range(3):
            cur.execute("SELECT %s", (value,))
            assert cur.fetchone() == (value,)
    conn.close()
    record = _wait_outcome(proxy, "graceful")[0]
    stats = proxy.stats()
    assert record["statements"] == 3
    assert record["closed_at"] >= record["opened_at"]
    assert stats["queries"] == stats["statements"] == 3
    assert stats["executes"] == 0
    assert stats["terminates"] == 1
    assert (stats["connections_opened"], stats["connections_open"], stats["closed_graceful"]) == (1, 0, 1)


def test_asyncpg_extended_protocol_counts_executes(proxy: PgProxy, pg_db: str) -> None:
    """asyncpg's extended protocol is counted as Parses and Executes (and SSL negotiation passes through)."""

    async def use() -> list[int]:
        conn = await asyncpg.connect(proxy.dsn(pg_db), ssl="prefer", timeout=10)
        try:
            return [await conn.fetchval("SELECT $1::int", value) for value in range(4)]
        finally:
            await conn.close()

    assert asyncio.run(use()) == [0, 1, 2, 3]
    record = _wait_outcome(proxy, "graceful")[0]
    stats = proxy.stats()
    assert stats["executes"] >= 4
    assert stats["parses"] >= 1
    assert record["statements"] == stats["statements"] == stats["executes"] + stats["queries"]


CLIENT_THAT_WAITS = """
import sys, time, psycopg2
conn = psycopg2.connect(sys.argv[1], connect_timeout=10)
conn.autocommit = True
conn.cursor().execute("SELECT 1")
time.sleep(60)
"""


def test_a_killed_client_is_dropped(proxy: PgProxy, pg_db: str) -> None:
    """A client process killed while connected never sends Terminate: its connection is 'dropped'."""
    child = subprocess.Popen([sys.executable, "-c", CLIENT_THAT_WAITS, proxy.dsn(pg_db)])
    try:
        wait_until(lambda: proxy.stats()["statements"] >= 1, timeout=15, what="the client's query")
        child.kill()
        child.wait(10)
        record = _wait_outcome(proxy, "dropped")[0]
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
    assert record["statements"] == 1
    stats = proxy.stats()
    assert (stats["closed_dropped"], stats["closed_graceful"], stats["connections_open"]) == (1, 0, 0)


def test_a_connection_the_server_ends_is_server_closed(proxy: PgProxy, pg_server: PostgresServer, pg_db: str) -> None:
    """When the backend is terminated, the connection is 'server_closed' and the client sees it close."""
    conn = _connect(proxy, pg_db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            (backend,) = cur.fetchone()
        with contextlib.closing(pg_server.connect(pg_db)) as admin, admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (backend,))
        _wait_outcome(proxy, "server_closed")
        with pytest.raises(psycopg2.OperationalError), conn.cursor() as cur:
            cur.execute("SELECT 1")
    finally:
        conn.close()
    assert proxy.stats()["closed_by_server"] == 1


def test_a_cancel_request_passes_through_and_is_classified(
    proxy: PgProxy, pg_server: PostgresServer, pg_db: str
) -> None:
    """psycopg2's cancel() reaches the server through the proxy; its connection is a 'cancel' one."""
    conn = _connect(proxy, pg_db)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        (backend,) = cur.fetchone()

    def sleeping() -> bool:
        with contextlib.closing(pg_server.connect(pg_db)) as admin, admin.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND query LIKE %s", (backend, "%pg_sleep%")
            )
            row = cur.fetchone()
            return bool(row and row[0])

    def cancel_when_sleeping() -> None:
        wait_until(sleeping, timeout=15, what="the sleeping query")
        conn.cancel()

    canceller = threading.Thread(target=cancel_when_sleeping)
    canceller.start()
    try:
        with pytest.raises(psycopg2.errors.QueryCanceled), conn.cursor() as cur:
            cur.execute("SELECT pg_sleep(20)")
    finally:
        canceller.join(20)
    with conn.cursor() as cur:  # the cancelled connection is still usable
        cur.execute("SELECT 1")
    conn.close()
    _wait_outcome(proxy, "cancel")
    _wait_outcome(proxy, "graceful")
    stats = proxy.stats()
    assert stats["cancel_requests"] == 1
    assert (stats["closed_graceful"], stats["closed_dropped"], stats["closed_by_server"]) == (1, 0, 0)


def test_latency_delays_each_round_trip(proxy: PgProxy, pg_db: str) -> None:
    """With latency_ms=50 a SELECT 1 round trip takes at least 50 ms."""
    conn = _connect(proxy, pg_db)
    try:
        assert proxy.configure(latency_ms=50) == {"latency_ms": 50.0, "refuse_new": False}
        with conn.cursor() as cur:
            for _ in range(3):
                started = time.perf_counter()
                cur.execute("SELECT 1")
                assert cur.fetchone() == (1,)
                assert time.perf_counter() - started >= 0.050
    finally:
        proxy.configure(latency_ms=0)
        conn.close()
    _wait_outcome(proxy, "graceful")


def test_delayed_bytes_keep_their_order_through_back_pressure(proxy: PgProxy, pg_db: str) -> None:
    """A 3 MB query under latency (more than the proxy holds back at once) arrives whole and in order."""
    payload = "".join(chr(ord("a") + i % 26) for i in range(3 * 1024 * 1024))
    digest = hashlib.md5(payload.encode(), usedforsecurity=False).hexdigest()
    conn = _connect(proxy, pg_db)
    try:
        proxy.configure(latency_ms=5)
        with conn.cursor() as cur:
            cur.execute("SELECT length(%s), md5(%s)", (payload, payload))
            assert cur.fetchone() == (len(payload), digest)
    finally:
        proxy.configure(latency_ms=0)
        conn.close()
    _wait_outcome(proxy, "graceful")


def test_refuse_new_closes_new_connections_only(proxy: PgProxy, pg_db: str) -> None:
    """refuse_new closes new connections at once (counted) while open ones keep working."""
    conn = _connect(proxy, pg_db)
    try:
        proxy.configure(refuse_new=True)
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect(proxy.dsn(pg_db), connect_timeout=10)
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        assert proxy.stats()["refused"] >= 1
        proxy.configure(refuse_new=False)
        _connect(proxy, pg_db).close()
    finally:
        proxy.configure(refuse_new=False)
        conn.close()
    stats = proxy.stats()
    assert stats["connections_opened"] == 2
    _wait_outcome(proxy, "graceful", count=2)


def test_reset_zeroes_counters_but_keeps_config_and_live_connections(proxy: PgProxy, pg_db: str) -> None:
    """After reset the counters are zero, the config stays and a live connection is still counted open."""
    conn = _connect(proxy, pg_db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        proxy.configure(latency_ms=1)
        proxy.reset()
        stats = proxy.stats()
        assert (stats["statements"], stats["connections_opened"], stats["connections_open"]) == (0, 0, 1)
        record = _only_record(proxy)
        assert (record["outcome"], record["statements"]) == ("open", 0)
        assert proxy.configure() == {"latency_ms": 1.0, "refuse_new": False}
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        assert proxy.stats()["statements"] == 1
    finally:
        conn.close()
    _wait_outcome(proxy, "graceful")


def test_bad_config_is_refused(proxy: PgProxy) -> None:
    """Unknown fields and bad values are answered 400 and change nothing."""
    with pytest.raises(ControlError, match="unknown config field: latency"):
        proxy.configure(latency=5)
    with pytest.raises(ControlError, match="latency_ms"):
        proxy.configure(latency_ms="slow")
    with pytest.raises(ControlError, match="refuse_new"):
        proxy.configure(refuse_new=1)
    assert proxy.configure() == {"latency_ms": 0.0, "refuse_new": False}


def test_many_concurrent_connections_are_pumped_independently(proxy: PgProxy, pg_db: str) -> None:
    """Twenty concurrent asyncpg connections each get their own answers through the proxy."""

    async def one(index: int) -> int:
        conn = await asyncpg.connect(proxy.dsn(pg_db), timeout=20)
        try:
            total = 0
            for step in range(20):
                total += await conn.fetchval("SELECT $1::int + $2::int", index, step)
            return total
        finally:
            await conn.close()

    async def all_of_them() -> list[int]:
        return await asyncio.gather(*(one(index) for index in range(20)))

    assert asyncio.run(all_of_them()) == [20 * index + sum(range(20)) for index in range(20)]
    _wait_outcome(proxy, "graceful", count=20)
    stats = proxy.stats()
    assert stats["connections_open_max"] >= 2
    assert stats["executes"] >= 400


def test_leaving_the_context_stops_the_process(pg_server: PostgresServer) -> None:
    """After the context ends no proxy process is left."""
    with start_pgproxy(pg_server.endpoint) as proxy:
        pid = proxy.pid
        assert proxy.stats()["connections_open"] == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_tcp_upstream_works_and_an_unreachable_one_is_server_closed(
    proxy: PgProxy, pg_db: str, pg_server: PostgresServer
) -> None:
    """A proxy in front of a TCP address (here: another proxy) works; a dead address ends as server_closed."""
    upstream = pg_server.endpoint
    front = Endpoint(host="127.0.0.1", port=proxy.port, user=upstream.user, password=upstream.password)
    with start_pgproxy(front) as chained:
        conn = _connect(chained, pg_db)
        with conn.cursor() as cur:
            cur.execute("SELECT 41 + 1")
            assert cur.fetchone() == (42,)
        conn.close()
        _wait_outcome(chained, "graceful")
    _wait_outcome(proxy, "graceful")
    assert proxy.stats()["statements"] == 1

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]  # nothing listens once this socket is closed
    with start_pgproxy(Endpoint(host="127.0.0.1", port=dead_port, user="postgres")) as dead:
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect(dead.dsn(pg_db), connect_timeout=10)
        _wait_outcome(dead, "server_closed")
