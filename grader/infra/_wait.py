"""Deadline-bounded waiting: a thing is ready when a real check passes, never after a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable


class NotReadyError(RuntimeError):
    """A readiness check did not pass before its deadline."""


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.05) -> None:
    """Call `check` until it returns True; raise NotReadyError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            if check():
                return
        except Exception as exc:  # noqa: BLE001 - any failure of a probe means "not yet"
            last_error = exc
        if time.monotonic() >= deadline:
            reason = f": {last_error}" if last_error else ""
            raise NotReadyError(f"{what} not ready after {timeout:.0f} s{reason}")
        time.sleep(interval)
