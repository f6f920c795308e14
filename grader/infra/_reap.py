"""Stopping a child for sure: a polite signal, a deadline, then SIGKILL to its whole group; always reaped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess


def stop(process: subprocess.Popen[bytes], first: signal.Signals, *, group: bool, timeout: float) -> None:
    """Send `first` to the child (or its process group), wait `timeout`, then SIGKILL the group.

    The child must lead its own session (start_new_session=True). Linux never hands out a pid that still
    names a process group, so the SIGKILL reaches only what the child left behind.
    """
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(process.pid, first)
            else:
                process.send_signal(first)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    # Also after a clean exit: children the leader left behind are still in its group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout)
