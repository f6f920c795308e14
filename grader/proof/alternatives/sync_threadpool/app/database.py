"""A psycopg2 ThreadedConnectionPool that waits for a free connection instead of failing at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.extensions
from psycopg2.extras import RealDictCursor
from psycopg2.pool import ThreadedConnectionPool

Cursor = RealDictCursor


class Busy(Exception):
    """No connection came free in time."""


class Database:
    def __init__(self, dsn: str, size: int, wait_s: float) -> None:
        # minconn = maxconn: psycopg2 closes a returned connection once `minconn` are idle, so anything
        # lower would reconnect under load. The connections are opened here, at startup.
        self._pool = ThreadedConnectionPool(
            size, size, dsn, connect_timeout=5, options="-c statement_timeout=10000"
        )
        self._free = threading.BoundedSemaphore(size)  # the pool raises when empty; this makes callers queue
        self._wait_s = wait_s

    @contextmanager
    def cursor(self) -> Iterator[Cursor]:
        if not self._free.acquire(timeout=self._wait_s):
            raise Busy
        broken = False
        try:
            conn = self._pool.getconn()
            try:
                conn.autocommit = True  # a read is one round trip, never an open transaction
                with conn.cursor(cursor_factory=RealDictCursor) as cur:
                    yield cur
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                broken = True
                raise
            finally:
                if not broken and conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                    broken = True  # interrupted mid-statement: never hand it to the next request
                self._pool.putconn(conn, close=broken)
        finally:
            self._free.release()

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A cursor inside BEGIN ... COMMIT; an exception rolls back."""
        with self.cursor() as cur:
            cur.execute("BEGIN")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def close(self) -> None:
        self._pool.closeall()
