"""The exec wrapper that confines a submission: run as `python -I _confine.py SPEC COMMAND...` by root.

It is the app's first act before it becomes uvicorn (a prefix to the command rather than a preexec_fn,
which is unsafe in a parent that has threads), so it runs as root before anything is hidden: `-I` keeps
the submission's directory off sys.path, and it imports nothing but the standard library. SPEC (JSON, see
`Spec`) says which steps to take, in this order:

1. resource limits;
2. `network`: join the deployment's network namespace (a passed fd) where only its two URLs listen;
3. `pid`: unshare a PID namespace and fork. The parent stays outside, relays SIGTERM and SIGINT and
   exits as the child did; the child is pid 1 of its namespace, so when it ends the kernel kills
   everything it started, whatever it forked (and SIGKILL reaches it when the parent dies);
4. `mount`: the child unshares a mount namespace and builds a new root on a tmpfs from a whitelist
   (system directories and the Python it runs on read-only, its copy and its home writable, small
   private scratch directories, a fresh /proc showing only its own processes), pivots into it and makes
   it read-only;
5. no new privileges, then the app's account; exec.

A failed step exits with `sandbox: PROTECTION: STEP: ERROR` on stderr, which the grader's trial reads to
name what is missing.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import platform
import resource
import select
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, TypedDict

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 0x2
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "armv7l": 218, "ppc64le": 203, "s390x": 217, "riscv64": 41}
RELAYED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
MAX_FD = 65536


class Mount(TypedDict, total=False):
    """One step of building the new root; `path` is where it appears in the app's view."""

    op: str  # "tmpfs" | "bind" | "device" | "symlink" | "file" | "proc"
    path: str
    source: str  # bind, device: the host path; symlink: the link's target
    mode: str  # bind: "ro" | "rw"
    options: str  # tmpfs: mount data (mode, size)
    text: str  # file: its content


class Spec(TypedDict):
    limits: dict[str, int]  # RLIMIT_<name>: soft and hard value, capped at the current hard limit
    netns_fd: int | None  # a network namespace to join
    pid: bool  # a PID namespace of its own
    root: str | None  # an empty directory where the new root is built (the mount namespace), or None
    mounts: list[Mount]  # in order: parents before what lies inside them
    ids: list[int] | None  # [uid, gid] to become, or None to stay who we are (not root)
    cwd: str


class SandboxStepError(Exception):
    """A step failed: `protection` names what the app goes without if it is skipped."""

    def __init__(self, protection: str, step: str, error: str) -> None:
        super().__init__(f"sandbox: {protection}: {step}: {error}")


_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def _check(result: int, protection: str, step: str) -> None:
    if result != 0:
        raise SandboxStepError(protection, step, os.strerror(ctypes.get_errno()))


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None, step: str) -> None:  # noqa: PLR0917 (mount(2)'s own arguments)
    encoded = [None if value is None else value.encode() for value in (source, target, fstype, data)]
    _check(_libc.mount(encoded[0], encoded[1], encoded[2], flags, encoded[3]), "mount", step)


def set_limits(limits: dict[str, int]) -> None:
    """Lower each limit to `value` (soft and hard), never above a hard limit already lower."""
    for name, value in limits.items():
        which = getattr(resource, f"RLIMIT_{name}")
        hard = resource.getrlimit(which)[1]
        capped = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (capped, capped))


def join_network(fd: int) -> None:
    _check(_libc.setns(fd, CLONE_NEWNET), "network", "setns(CLONE_NEWNET)")
    os.close(fd)


def _inside(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def _make_point(target: str, is_dir: bool) -> None:
    """A mount point at `target`: a directory, or an empty file for a file's bind mount."""
    if is_dir:
        os.makedirs(target, exist_ok=True)
    elif not os.path.exists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "x"):
            pass


def build_root(root: str, mounts: Sequence[Mount]) -> None:
    """Mount a tmpfs at `root` and lay out the app's whole view on it, as `mounts` say."""
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m", f"a tmpfs at {root}")
    umask = os.umask(0o022)  # the mount points' parents must be traversable by the app
    try:
        for entry in mounts:
            _apply(root, entry)
    except OSError as exc:
        raise SandboxStepError("mount", f"laying out {entry['path']}", str(exc)) from None
    finally:
        os.umask(umask)


def _apply(root: str, entry: Mount) -> None:
    op, path = entry["op"], entry["path"]
    target = _inside(root, path)
    if op == "tmpfs":
        _make_point(target, is_dir=True)
        _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, entry["options"], f"a tmpfs at {path}")
    elif op == "symlink":
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(entry["source"], target)
    elif op == "file":
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as file:
            file.write(entry["text"])
        os.chmod(target, 0o644)
    elif op == "proc":
        _make_point(target, is_dir=True)
        _mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None, "a fresh /proc")
    elif op in ("bind", "device"):
        source = entry["source"]
        _make_point(target, is_dir=os.path.isdir(source))
        _mount(source, target, None, MS_BIND, None, f"showing {path}")
        if op == "bind" and entry["mode"] == "ro":
            flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
            _mount(None, target, None, flags, None, f"making {path} read-only")
        elif op == "device":  # a device works on a read-only mount; it must not be a way to run code
            _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC, None, f"protecting {path}")
    else:
        raise SandboxStepError("mount", f"laying out {path}", f"unknown step {op!r}")


def enter_root(root: str) -> None:
    """Make `root` the root (the old one detached and gone), then make it read-only."""
    os.chdir(root)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    pivoted = number is not None and _libc.syscall(number, b".", b".") == 0
    if pivoted:
        # the old root is stacked on "." now: detach it
        _check(_libc.umount2(b".", MNT_DETACH), "mount", "detaching the old root")
    else:  # no pivot_root here: chroot confines as well once the app cannot chroot (not root)
        _check(_libc.chroot(b"."), "mount", "chroot into the new root")
    os.chdir("/")
    _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None, "making / read-only")


def become(ids: Sequence[int] | None) -> None:
    # No setuid program (su, sudo, mount) can give back what is taken here.
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "account", "prctl(PR_SET_NO_NEW_PRIVS)")
    if ids is not None:
        uid, gid = ids
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)


def relay(child: int, ids: Sequence[int] | None) -> NoReturn:
    """The parent's part: pass signals to the child, wait for it, end as it ended."""
    for sig in RELAYED:
        signal.signal(sig, lambda number, _frame: _forward(child, number))
    become(ids)
    while True:
        pid, status = os.waitpid(child, 0)
        if pid == child:
            break
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):  # SIGKILL's disposition cannot be set, nor need be
            signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
        os._exit(128 + number)
    os._exit(os.waitstatus_to_exitcode(status))


def _forward(child: int, number: int) -> None:
    """Pass signal `number` on to the child, as if it had been sent to an ordinary process.

    The child is pid 1 of its namespace, which the kernel spares every signal it has no handler for: a
    SIGTERM would be ignored where it should end an app that is, say, still importing. So a signal it
    neither catches nor ignores is sent as SIGKILL, which is what its default action would have done.
    """
    if not _handles(child, number):
        number = signal.SIGKILL
    # gone already, or not ours yet (it is still root): the grader's SIGKILL follows
    with contextlib.suppress(OSError):
        os.kill(child, number)


def _handles(pid: int, number: int) -> bool:
    """Whether process `pid` catches or ignores signal `number` (/proc/PID/status SigCgt and SigIgn)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            masks = dict(line.split(":", 1) for line in status if line.startswith(("SigCgt", "SigIgn")))
    except OSError:
        return True  # cannot tell: pass it on as it is
    bit = 1 << (number - 1)
    return any(int(mask, 16) & bit for mask in masks.values())


def _close_others(keep: int) -> None:
    os.closerange(3, keep)
    os.closerange(keep + 1, MAX_FD)


def _orphaned(parent_alive: int) -> bool:
    """Whether the parent is gone (its end of the pipe closed): then PDEATHSIG came too early to fire."""
    readable, _, _ = select.select([parent_alive], [], [], 0)
    return bool(readable)


def confine(spec: Spec, command: Sequence[str]) -> NoReturn:
    """Take every step `spec` asks for, then exec `command` (argv[0] is the program)."""
    set_limits(spec["limits"])
    if spec["netns_fd"] is not None:
        join_network(spec["netns_fd"])
    parent_alive = -1
    if spec["pid"]:
        _check(_libc.unshare(CLONE_NEWPID), "pid", "unshare(CLONE_NEWPID)")
        parent_alive, child_holds = os.pipe()
        child = os.fork()
        if child:
            os.close(parent_alive)
            _close_others(child_holds)  # the app's listening socket and pipes are the child's alone
            relay(child, spec["ids"])
        os.close(child_holds)
    if spec["root"]:
        # only the child's: the parent keeps the machine's /proc, where it watches the child
        _check(_libc.unshare(CLONE_NEWNS), "mount", "unshare(CLONE_NEWNS)")
        _mount("none", "/", None, MS_REC | MS_PRIVATE, None, "making / private")
        build_root(spec["root"], spec["mounts"])
        enter_root(spec["root"])
    become(spec["ids"])
    if spec["pid"]:
        # set after the account change, which clears it
        _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pid", "prctl(PR_SET_PDEATHSIG)")
        if _orphaned(parent_alive):
            os._exit(1)
        os.close(parent_alive)
    os.chdir(spec["cwd"])
    os.execv(command[0], list(command))  # noqa: S606 (the app, by its absolute path)


def main(argv: Sequence[str]) -> NoReturn:
    spec: Any = json.loads(argv[1])
    try:
        confine(spec, argv[2:])
    except SandboxStepError as exc:
        sys.exit(str(exc))
    except OSError as exc:
        sys.exit(f"sandbox: exec: {exc}")


if __name__ == "__main__":
    main(sys.argv)
