"""Keep the app and the load generator off each other's cores, when there are at least two."""

from __future__ import annotations

import contextlib
import os

import psutil


def plan() -> tuple[list[int] | None, list[int] | None]:
    """(the app's cores, the generator's cores); (None, None) on a single core: nothing to separate."""
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        return None, None
    half = len(usable) // 2
    return usable[:half], usable[half:]


def pin_tree(pid: int | None, cpus: list[int] | None) -> int:
    """Pin every thread of `pid` and its descendants to `cpus`; threads they start later inherit it.

    Returns how many threads were pinned.
    """
    if not cpus or pid is None:
        return 0
    pinned = 0
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                for thread in process.threads():
                    with contextlib.suppress(OSError):
                        os.sched_setaffinity(thread.id, cpus)
                        pinned += 1
    return pinned
