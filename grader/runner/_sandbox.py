"""What confines a submission, and how far this machine lets us: found once per grader process by trying.

When the grader is root, every app (one per deployment) gets:
- `account`: a fresh unprivileged uid and gid of its own, from a reserved range (no passwd entry needed),
  owning only its copy and its home; the reference solution and each submission never share one;
- `network`: a network namespace of its own (made by the deployment, `grader.infra._netns`) in which only
  its DATABASE_URL and PAYMENTS_URL listen; its own listening socket is the grader's, opened outside;
- `pid`: a PID namespace, so that everything it started dies with it, whatever it forked;
- `mount`: a root file system built from a whitelist: its copy and its home (rw), the Python it runs on
  and the system directories (ro), private small scratch directories, a /proc of its own processes;
and always resource limits and the resident-memory watchdog. The exec wrapper `_confine.py` takes the
steps. Without root there is no account and no namespace: the app runs as the grader's own user, and
`describe()` says what is missing. A trial that fails on a machine that should allow it is retried once,
then the step that failed is named loudly (`weakened`): in the summary line, report.json and stderr.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.infra import NamespaceError, NetNamespace, make_traversable
from grader.runner import _confine
from grader.runner._confine import Mount, Spec

MAX_PROCESSES = 512  # threads count too: uvicorn, anyio's pool, asyncpg, a candidate's executors
MAX_FILE_BYTES = 1 << 30  # no single file over 1 GiB: a flood to disk ends in SIGXFSZ, not a full disk
MAX_OPEN_FILES = 4096
# Fresh ids per app come from here: far above any account a distribution or useradd hands out, and wide
# enough that two graders on one machine drawing at random do not meet.
APP_ID_BASE = 1_900_000_000
APP_ID_SPAN = 1 << 24
# Directories anyone may write to: each is a private empty tmpfs in the app's view. Small: tmpfs pages are
# memory that the resident-memory watchdog does not see.
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")  # noqa: S108 (the app's own, not used here)
SCRATCH_BYTES = 64 << 20
# What of the machine the app sees, read-only: the programs and libraries (a link stays a link), and
# the few files of /etc a process needs to resolve localhost, load libraries and verify TLS.
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
ETC = (
    "hosts", "host.conf", "resolv.conf", "nsswitch.conf", "gai.conf", "ld.so.cache", "ld.so.conf",
    "ld.so.conf.d", "localtime", "timezone", "ssl", "ca-certificates", "ca-certificates.conf", "protocols",
    "services", "mime.types", "os-release", "alternatives",
)  # fmt: skip
DEVICES = ("null", "zero", "full", "random", "urandom")
PROBE_TIMEOUT = 30.0
PROTECTIONS = ("account", "network", "pid", "mount")
DROPPABLE = ("network", "pid", "mount")  # never the account: an app must not run as root
WRAPPER = Path(_confine.__file__).resolve()


def fresh_ids() -> tuple[int, int]:
    """A uid and gid no account and no other app of ours has (the range is reserved for apps)."""
    while True:
        number = APP_ID_BASE + secrets.randbelow(APP_ID_SPAN)
        if not _has_account(number):
            return number, number


def _has_account(number: int) -> bool:
    import grp  # noqa: PLC0415 - Unix only, like everything here
    import pwd  # noqa: PLC0415

    try:
        pwd.getpwuid(number)
    except KeyError:
        try:
            grp.getgrgid(number)
        except KeyError:
            return False
    return True


def hand_over(path: Path, ids: tuple[int, int] | None) -> None:
    """Give the app's account the files it must be able to read and write."""
    if ids is None:
        return
    for parent, _dirs, files in os.walk(path):
        os.chown(parent, *ids)
        for name in files:
            os.chown(os.path.join(parent, name), *ids, follow_symlinks=False)


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """The paths that are not inside another of them, in order."""
    unique = sorted(set(paths))
    return [p for p in unique if not any(p != q and p.is_relative_to(q) for q in unique)]


def root_plan(
    writable: Sequence[Path], readable: Sequence[Path], *, ids: tuple[int, int] | None, home: Path | None
) -> list[Mount]:
    """The app's whole view of the file system, as steps for the wrapper (parents before children).

    `writable` (its copy, its home) and `readable` (the Python it runs on, its library) appear at their
    own paths; so do the system directories; the scratch directories are empty tmpfs; nothing else exists.
    """
    mounts: list[Mount] = []
    for name in SYSTEM:
        path = Path(name)
        if path.is_symlink():
            mounts.append({"op": "symlink", "path": name, "source": os.readlink(path)})
        elif path.is_dir():
            mounts.append({"op": "bind", "path": name, "source": name, "mode": "ro"})
    for name in ETC:
        path = Path("/etc", name)
        if path.is_symlink():
            mounts.append({"op": "symlink", "path": str(path), "source": os.readlink(path)})
        elif path.exists():
            mounts.append({"op": "bind", "path": str(path), "source": str(path), "mode": "ro"})
    if ids is not None:  # its own account, for the libraries that look the user up
        uid, gid = ids
        entry = f"app:x:{uid}:{gid}:app:{home}:/usr/sbin/nologin\n"
        mounts.append({"op": "file", "path": "/etc/passwd", "text": entry})
        mounts.append({"op": "file", "path": "/etc/group", "text": f"app:x:{gid}:\n"})
    mounts.append({"op": "tmpfs", "path": "/dev", "options": "mode=0755,size=1m"})
    mounts += [{"op": "device", "path": f"/dev/{name}", "source": f"/dev/{name}"} for name in DEVICES]
    for name, target in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")]:  # fmt: skip
        mounts.append({"op": "symlink", "path": f"/dev/{name}", "source": target})
    mounts.append({"op": "proc", "path": "/proc"})
    for name in SCRATCH:
        mounts.append({"op": "tmpfs", "path": name, "options": f"mode=1777,size={SCRATCH_BYTES}"})
    shown = set(_outermost(Path(p) for p in SYSTEM if Path(p).is_dir() and not Path(p).is_symlink()))
    modes = {p.resolve(): "ro" for p in readable} | {p.resolve(): "rw" for p in writable}
    for path in sorted(modes):
        if any(path.is_relative_to(system) for system in shown) and modes[path] == "ro":
            continue  # in view already (a Python under /usr), read-only as wanted
        mounts.append({"op": "bind", "path": str(path), "source": str(path), "mode": modes[path]})
    return mounts


@dataclass(frozen=True)
class Sandbox:
    """The confinement in force for every app this grader runs."""

    account: bool  # a fresh unprivileged uid per app (we are root)
    network: bool  # a network namespace per deployment
    pid: bool  # a PID namespace per app
    mount: bool  # a whitelisted root file system per app
    # protection -> why it is missing: the step that failed, or that the machine does not allow it
    missing: dict[str, str] = field(default_factory=dict)
    weakened: bool = False  # a protection this machine should allow failed its trial twice

    def describe(self) -> str:
        """Exactly what is in force and what is missing, for the report and the summary line."""
        parts = []
        parts.append("a fresh unprivileged account per app" if self.account else "the grader's own account")
        if self.network:
            parts.append("network namespace (only DATABASE_URL and PAYMENTS_URL reachable)")
        if self.pid:
            parts.append("PID namespace (all it starts dies with it)")
        if self.mount:
            parts.append(f"whitelisted file system (its copy, home, Python, system dirs; private {', '.join(SCRATCH)})")
        parts.append("resource limits, memory watchdog")
        text = "; ".join(parts)
        if self.missing:
            label = "MISSING (weaker than this machine should allow)" if self.weakened else "missing"
            text += f"; {label}: " + "; ".join(f"{name} ({why})" for name, why in self.missing.items())
        return text

    def summary(self) -> str:
        """One line for the end of every grade."""
        on = [name for name in PROTECTIONS if getattr(self, name)]
        if not self.missing:
            return f"sandbox: every protection on ({', '.join(on)})"
        missing = ", ".join(f"{name} ({why})" for name, why in self.missing.items())
        label = "SANDBOX WEAKENED" if self.weakened else "sandbox"
        return f"{label}: on: {', '.join(on) or 'limits only'}; missing: {missing}"

    def ids(self) -> tuple[int, int] | None:
        """The account for the next app: fresh each time, or None to run it as ourselves."""
        return fresh_ids() if self.account else None

    def command(
        self,
        python: str,
        args: Sequence[str],
        *,
        cwd: Path,
        writable: Sequence[Path],
        readable: Sequence[Path],
        ids: tuple[int, int] | None,
        root: Path | None = None,
        home: Path | None = None,
        netns_fd: int | None = None,
    ) -> list[str]:
        """`python args...` run in this sandbox from `cwd` as `ids`, with `writable` and `readable` in view.

        `root` is an empty directory of the grader's where the app's root is built (needed with `mount`);
        `netns_fd` the deployment's network namespace (passed to the child, needed with `network`).
        """
        limits = {"CORE": 0, "FSIZE": MAX_FILE_BYTES, "NOFILE": MAX_OPEN_FILES}
        if ids is not None:  # RLIMIT_NPROC counts per user: only meaningful for the app's own account
            limits["NPROC"] = MAX_PROCESSES
        built = self.mount and root is not None
        spec: Spec = {
            "limits": limits,
            "netns_fd": netns_fd if self.network else None,
            "pid": self.pid,
            "root": str(root) if built else None,
            "mounts": root_plan(writable, readable, ids=ids, home=home) if built else [],
            "ids": list(ids) if ids is not None else None,
            "cwd": str(cwd),
        }
        return [python, "-I", str(WRAPPER), json.dumps(spec), python, *args]

    def prepare(self, runtime: Sequence[Path]) -> None:
        """Let the app's account reach the Python it runs on. Its own root shows the runtime under
        directories of its own, so only without one must the machine's directories be made traversable."""
        if self.account and not self.mount:
            for path in runtime:
                make_traversable(path)


def runtime_paths(python: str) -> list[Path]:
    """The interpreter's directories the app needs: the venv's and the base one it links to."""
    return [Path(python).parent, Path(python).resolve().parent]


def _trial(box: Sandbox, python: str, readable: Sequence[Path]) -> str:
    """Start `python -c pass` in `box` exactly as an app is started; "" when it worked, else the error."""
    work = Path(tempfile.mkdtemp(prefix="kit-trial-"))
    netns: NetNamespace | None = None
    try:
        root = work / "root"
        root.mkdir()
        box.prepare(runtime_paths(python))
        if box.network:
            netns = NetNamespace.create()
        ids = box.ids()
        command = box.command(
            python, ["-I", "-c", "pass"], cwd=Path("/"), writable=[], readable=readable, ids=ids, root=root,
            home=work, netns_fd=netns.fd if netns else None,
        )  # fmt: skip
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT,
                check=False,
                pass_fds=[netns.fd] if netns else [],
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"sandbox: exec: trying one failed: {exc}"
        if done.returncode == 0:
            return ""
        return (done.stderr.strip().splitlines() or [f"sandbox: exec: exit code {done.returncode}"])[-1]
    except NamespaceError as exc:
        return f"sandbox: network: {exc.strerror}"
    finally:
        if netns is not None:
            netns.close()
        shutil.rmtree(work, ignore_errors=True)


def _blamed(error: str) -> str | None:
    """The protection a wrapper error names (`sandbox: PROTECTION: ...`), if it is one we can go without."""
    parts = error.split(": ", 2)
    if len(parts) >= 2 and parts[0] == "sandbox" and parts[1] in DROPPABLE:
        return parts[1]
    return None


def find_sandbox(python: str, readable: Sequence[Path]) -> Sandbox:
    """The strongest confinement this machine allows for apps run by `python`: each trial that fails is
    retried once, then the protection its failing step belongs to is dropped and named."""
    if os.geteuid() != 0:
        why = "the grader is not root"
        return Sandbox(False, False, False, False, missing=dict.fromkeys(PROTECTIONS, why))
    on = dict.fromkeys(DROPPABLE, True)
    missing: dict[str, str] = {}
    error = ""
    for _ in range(len(DROPPABLE) + 1):
        box = _box(on, missing)
        error = _trial(box, python, readable)
        if error:
            error = _trial(box, python, readable)  # once more: a passing hiccup must not weaken a grade
        if not error:
            return _box(on, missing, weakened=bool(missing))
        blamed = _blamed(error)
        if blamed is None or not on[blamed]:
            break
        on[blamed] = False
        missing[blamed] = error.removeprefix(f"sandbox: {blamed}: ")
    # nothing we can take away makes it start: no namespace at all, and say why loudly
    for name in DROPPABLE:
        missing.setdefault(name, error)
    return _box(dict.fromkeys(DROPPABLE, False), missing, weakened=True)


def _box(on: dict[str, bool], missing: dict[str, str], *, weakened: bool = False) -> Sandbox:
    return Sandbox(
        account=True, network=on["network"], pid=on["pid"], mount=on["mount"], missing=dict(missing), weakened=weakened
    )


@functools.cache
def sandbox() -> Sandbox:
    """The strongest confinement this machine allows, found once per grader process."""
    return find_sandbox(sys.executable, [Path(sys.prefix), Path(sys.base_prefix)])
