"""Deadline-bounded waiting: a thing is ready when a real check passes, never after a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable


class NotReadyError(RuntimeError):
    """A readiness check did not pass before its deadline."""


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    interval: float = 0.05,
    fatal: tuple[type[BaseException], ...] = (),
) -> None:
    """Call `check` until it returns True; raise NotReadyError naming `what` after `timeout` seconds.

    An exception of a `fatal` type ends the wait at once (the thing will never become ready).
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            if check():
                return
        except fatal:
            raise
        except Exception as exc:  # any failure of the check means "not yet"
            last_error = exc
        if time.monotonic() >= deadline:
            reason = f": {last_error}" if last_error else ""
            raise NotReadyError(f"{what} not ready after {timeout:.0f} s{reason}")
        time.sleep(interval)
