"""A bulkhead: cap how many requests may hold a scarce resource at once, with a bounded wait."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from app.errors import ServiceBusy


class Bulkhead:
    """At most `limit` holders; a caller that waits longer than `wait_s` is turned away with 503."""

    def __init__(self, limit: int, wait_s: float) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._wait_s = wait_s

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._wait_s):
                await self._slots.acquire()
        except TimeoutError:
            raise ServiceBusy("too many orders in progress; retry shortly") from None
        try:
            yield
        finally:
            self._slots.release()
