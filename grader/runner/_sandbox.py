"""What confines a submission: its own unprivileged account (when we are root) and resource limits."""

from __future__ import annotations

import os
from pathlib import Path

from grader.infra._users import system_user

APP_USER = "kit_app"
MAX_PROCESSES = 512  # threads count too: uvicorn, anyio's pool, asyncpg, a candidate's executors
MAX_FILE_BYTES = 1 << 30  # no single file over 1 GiB: a flood to disk ends in SIGXFSZ, not a full disk
MAX_OPEN_FILES = 4096


def app_ids() -> tuple[int, int] | None:
    """(uid, gid) the app runs as, or None to run as ourselves (we are not root)."""
    user = system_user(APP_USER)
    return None if user is None else (user.pw_uid, user.pw_gid)


def hand_over(path: Path, ids: tuple[int, int] | None) -> None:
    """Give the app's account the files it must be able to read and write."""
    if ids is None:
        return
    for parent, _dirs, files in os.walk(path):
        os.chown(parent, *ids)
        for name in files:
            os.chown(os.path.join(parent, name), *ids, follow_symlinks=False)


# Run in the child as its first act: lower its own limits (no capability needed), then become uvicorn.
# A prefix to the command rather than a preexec_fn, which is unsafe in a parent that has threads.
_CONFINE = """
import os, resource, sys
for name, value in zip(("CORE", "FSIZE", "NOFILE", "NPROC"), map(int, sys.argv[1:5])):
    which = getattr(resource, "RLIMIT_" + name)
    hard = resource.getrlimit(which)[1]
    if value >= 0:
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))
os.execv(sys.executable, [sys.executable, *sys.argv[5:]])
"""


def confined(python: str, args: list[str], ids: tuple[int, int] | None) -> list[str]:
    """`python args...` run with the app's resource limits."""
    # RLIMIT_NPROC counts per user: only meaningful (and harmless) for the app's own account
    nproc = MAX_PROCESSES if ids is not None else -1
    return [python, "-c", _CONFINE, "0", str(MAX_FILE_BYTES), str(MAX_OPEN_FILES), str(nproc), *args]
