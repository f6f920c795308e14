"""A small in-process TTL cache for customer history pages, invalidated when the customer orders."""

from __future__ import annotations

import time
from collections import OrderedDict

from app.schemas import CustomerOrdersPublic


class HistoryCache:
    def __init__(self, ttl_s: float = 30.0, capacity: int = 4096) -> None:
        self._ttl_s = ttl_s
        self._capacity = capacity
        self._pages: OrderedDict[str, tuple[float, CustomerOrdersPublic]] = OrderedDict()

    def get(self, email: str) -> CustomerOrdersPublic | None:
        hit = self._pages.get(email)
        if hit is None or hit[0] < time.monotonic():
            return None
        self._pages.move_to_end(email)
        return hit[1]

    def put(self, email: str, page: CustomerOrdersPublic) -> None:
        self._pages[email] = (time.monotonic() + self._ttl_s, page)
        self._pages.move_to_end(email)
        while len(self._pages) > self._capacity:
            self._pages.popitem(last=False)

    def invalidate(self, email: str) -> None:
        self._pages.pop(email, None)
