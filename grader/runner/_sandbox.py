"""What confines a submission: resource limits; when we are root, its own unprivileged account; and when
the kernel lets us, a private mount namespace in which the kit's own files are hidden and the shared
scratch directories are private, empty and small.

Everything happens in an exec wrapper, the child's first act before it becomes uvicorn (a prefix to the
command rather than a preexec_fn, which is unsafe in a parent that has threads). It keeps the child's pid
(no extra process in the tree): lower the limits, unshare the mounts and rearrange them while still root,
drop to the app's account, exec.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.infra import system_user

APP_USER = "kit_app"
MAX_PROCESSES = 512  # threads count too: uvicorn, anyio's pool, asyncpg, a candidate's executors
MAX_FILE_BYTES = 1 << 30  # no single file over 1 GiB: a flood to disk ends in SIGXFSZ, not a full disk
MAX_OPEN_FILES = 4096
# Directories anyone may write to, shared with the grader and every other process: each becomes a private
# empty tmpfs. Small: tmpfs pages are memory that the resident-memory watchdog does not see.
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")  # noqa: S108 (hidden, not used)
SCRATCH_BYTES = 64 << 20
PROBE_TIMEOUT = 30.0


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


def project_root() -> Path:
    """What the app must not see of the kit: its checkout (solution, grader, tests, catalogue, reports,
    .git), or only the grader package when it is installed into site-packages rather than checked out."""
    package = Path(__file__).resolve().parents[1]
    root = package.parent
    runtimes = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    return package if any(root.is_relative_to(runtime) for runtime in runtimes) else root


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """The paths that are not inside another of them, in order."""
    unique = sorted(set(paths))
    return [p for p in unique if not any(p != q and p.is_relative_to(q) for q in unique)]


def mount_plan(writable: Sequence[Path], readable: Sequence[Path]) -> dict[str, list[list[str]]]:
    """Which directories become an empty tmpfs, and which paths under them are bound back into view.

    `writable` (its copy, its home) and `readable` (the Python it runs on) are what the app needs: each
    one a hidden directory would cover is bound back at the same path, the readable ones read-only.
    """
    scratch = [Path(p).resolve() for p in SCRATCH if os.path.isdir(p)]
    hidden = _outermost([*scratch, project_root()])
    options = {path: f"mode={'1777' if path in scratch else '0755'},size={SCRATCH_BYTES}" for path in hidden}
    modes = {p.resolve(): "ro" for p in readable} | {p.resolve(): "rw" for p in writable}
    # sorted: a directory is bound before anything inside it
    bound = [[str(p), modes[p]] for p in sorted(modes) if any(p.is_relative_to(h) for h in hidden)]
    return {"hide": [[str(p), options[p]] for p in hidden], "bind": bound}


# The wrapper, run as `python -I -c _CONFINE SPEC args...`: isolated, so that a module in the submission's
# directory (the working directory) cannot stand in for one it imports while it is still root.
_CONFINE = r"""
import ctypes, json, os, resource, sys
spec = json.loads(sys.argv[1])
for name, value in spec["limits"].items():
    which = getattr(resource, "RLIMIT_" + name)
    hard = resource.getrlimit(which)[1]
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(which, (value, value))
libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]

def check(result, what):
    if result != 0:
        sys.exit(f"sandbox: {what}: {os.strerror(ctypes.get_errno())}")

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 1 << 14, 1 << 18
if spec["hide"]:
    check(libc.unshare(0x20000), "unshare(CLONE_NEWNS)")
    check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "making / private")
    # Handles on what comes back into view, taken before the tmpfs covers them: binding from
    # /proc/self/fd reaches the directory itself, wherever it now lies hidden.
    keep = [(path, mode, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path, mode in spec["bind"]]
    for path, options in spec["hide"]:
        flags = MS_NOSUID | MS_NODEV
        check(libc.mount(b"tmpfs", path.encode(), b"tmpfs", flags, options.encode()), "hiding " + path)
    umask = os.umask(0o022)  # the mount points' parents must be traversable by the app
    for path, mode, fd in keep:
        os.makedirs(path, exist_ok=True)
        source = f"/proc/self/fd/{fd}".encode()
        check(libc.mount(source, path.encode(), None, MS_BIND | MS_REC, None), "showing " + path)
        if mode == "ro":
            flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
            check(libc.mount(None, path.encode(), None, flags, None), "protecting " + path)
        os.close(fd)
    os.umask(umask)
# No setuid program (su, sudo, mount) can give back what is taken here.
check(libc.prctl(38, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
if spec["ids"]:
    uid, gid = spec["ids"]
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
os.chdir(spec["cwd"])
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


@dataclass(frozen=True)
class Sandbox:
    """The confinement in force for every app this grader runs."""

    ids: tuple[int, int] | None  # the app's account, or None: it runs as ourselves
    namespace: bool  # a private mount namespace hides the kit and the shared scratch directories
    missing: str  # why there is no namespace, when there is none

    def describe(self) -> str:
        limits = "resource limits, memory watchdog"
        if self.ids is None:
            return f"{limits}; runs as the grader's own user ({self.missing}): the kit is readable to it"
        account = f"unprivileged account {APP_USER}, {limits}"
        if self.namespace:
            return f"{account}; private mount namespace: the kit hidden, private {', '.join(SCRATCH)}"
        return f"{account}; no mount namespace ({self.missing}): the kit is readable to it"

    def command(
        self, python: str, args: Sequence[str], *, cwd: Path, writable: Sequence[Path], readable: Sequence[Path]
    ) -> list[str]:
        """`python args...` run in this sandbox from `cwd`, with `writable` and `readable` in view."""
        limits = {"CORE": 0, "FSIZE": MAX_FILE_BYTES, "NOFILE": MAX_OPEN_FILES}
        if self.ids is not None:  # RLIMIT_NPROC counts per user: only meaningful for the app's own account
            limits["NPROC"] = MAX_PROCESSES
        plan = mount_plan(writable, readable) if self.namespace else {"hide": [], "bind": []}
        spec = {"limits": limits, "ids": self.ids, "cwd": str(cwd), **plan}
        return [python, "-I", "-c", _CONFINE, json.dumps(spec), *args]


def _namespace_missing(ids: tuple[int, int]) -> str:
    """Why a private mount namespace cannot be had here ("" when it can): try one, with the real plan."""
    trial = Sandbox(ids, namespace=True, missing="")
    runtime = [Path(sys.prefix), Path(sys.base_prefix)]
    command = trial.command(sys.executable, ["-I", "-c", "pass"], cwd=Path("/"), writable=[], readable=runtime)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"trying one failed: {exc}"
    if done.returncode == 0:
        return ""
    return (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]


@functools.cache
def sandbox() -> Sandbox:
    """The strongest confinement this machine allows, found once per grader process."""
    ids = app_ids()
    if ids is None:
        return Sandbox(None, namespace=False, missing="the grader is not root")
    missing = _namespace_missing(ids)
    return Sandbox(ids, namespace=not missing, missing=missing)
