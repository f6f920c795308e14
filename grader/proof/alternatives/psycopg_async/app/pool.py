"""A small connection pool: idle psycopg connections in an asyncio.Queue, a semaphore for the cap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow, dict_row

Conn = AsyncConnection[DictRow]


class PoolTimeout(Exception):
    """Every connection stayed busy for the whole wait."""


class Pool:
    def __init__(self, dsn: str, size: int, wait_s: float) -> None:
        self._dsn = dsn
        self._idle: asyncio.Queue[Conn] = asyncio.Queue()
        self._slots = asyncio.Semaphore(size)
        self._wait_s = wait_s

    async def _connect(self) -> Conn:
        # autocommit: reads are single statements; writes open `conn.transaction()` explicitly
        options: dict[str, Any] = {"autocommit": True, "row_factory": dict_row, "connect_timeout": 5}
        return await AsyncConnection.connect(self._dsn, **options)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Conn]:
        try:
            await asyncio.wait_for(self._slots.acquire(), self._wait_s)
        except TimeoutError:
            raise PoolTimeout from None
        conn: Conn | None = None
        try:
            conn = self._idle.get_nowait() if not self._idle.empty() else await self._connect()
            yield conn
        finally:
            if conn is not None:
                if conn.closed or conn.info.transaction_status is not TransactionStatus.IDLE:
                    await conn.close()  # broken, or left mid-transaction by a cancelled request: not reusable
                else:
                    self._idle.put_nowait(conn)
            self._slots.release()

    async def close(self) -> None:
        while not self._idle.empty():
            await self._idle.get_nowait().close()
