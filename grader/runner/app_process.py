"""Start a submission under uvicorn in its own process group, wait until it answers, stop it for sure.

The grader owns the listening socket and hands it to uvicorn (`--fd`): no port race, and the app cannot
choose where it listens. The app is ready when `GET /health` answers 200 before a deadline. It runs in the
sandbox `_sandbox` describes; the grader's files for it (its log, the debug loop) sit beside its home, out
of its reach.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from grader.infra import NetNamespace, NotReadyError, make_traversable, wait_until
from grader.runner._output import CappedLog
from grader.runner._sandbox import hand_over, runtime_paths, sandbox

READY_TIMEOUT = 30.0
STOP_GRACE = 10.0
LOG_CAP = 8 * 1024 * 1024
MEMORY_LIMIT = 1536 * 1024 * 1024  # resident memory of the app and its children
WATCH_INTERVAL = 0.25
MAX_ESCAPES_NAMED = 20
ESCAPE_COMMAND_CHARS = 100
# What the app gets from our environment; everything else is scrubbed.
PASSED_THROUGH = ("LANG", "LC_ALL", "TZ")
# The kit is hidden from the app, so the debug loop uvicorn imports is a copy on the app's PYTHONPATH.
DEBUG_LOOP_SOURCE = Path(__file__).with_name("_debugloop.py")
DEBUG_LOOP = "kit_debugloop:new_debug_loop"


class AppStartError(RuntimeError):
    """The app did not become ready; the message carries the reason and its log tail."""


@dataclass
class AppProcess:
    """A running submission."""

    url: str
    process: subprocess.Popen[bytes]
    log: CappedLog
    exit_code: int | None = field(default=None)
    killed_for: str | None = field(default=None)  # why the grader killed it before it was told to stop
    stopping: bool = field(default=False)
    # Every descendant seen while it ran: one that left the app's session (setsid) or was orphaned by a
    # crash is out of reach of the process group, and is killed one by one instead.
    descendants: set[psutil.Process] = field(default_factory=set)
    # pid -> command of each descendant seen outside the app's session (setsid: a daemon in the making)
    escapes: dict[int, str] = field(default_factory=dict)
    _seen_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # the watchdog adds too

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        return self.log.tail(lines)

    def log_text(self) -> str:
        return self.log.text()

    def unexpected_exit(self) -> str | None:
        """Why the app is gone although nobody asked it to stop, or None while it runs (or was stopped)."""
        if self.stopping or self.process.poll() is None:
            return None
        if self.killed_for:
            return self.killed_for
        return f"the app exited by itself with code {self.process.returncode}"

    def note_descendants(self) -> list[psutil.Process]:
        """Remember the app's descendants as they are now; return them."""
        try:
            found: list[psutil.Process] = psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            return []
        with self._seen_lock:
            new = [process for process in found if process not in self.descendants]
            self.descendants.update(found)
        for process in new:
            if len(self.escapes) < MAX_ESCAPES_NAMED and _session(process.pid) not in (None, self.pid):
                with contextlib.suppress(psutil.Error):
                    self.escapes[process.pid] = " ".join(process.cmdline())[:ESCAPE_COMMAND_CHARS]
        return found

    def kill(self, reason: str) -> None:
        """Stop it now, for `reason` (a phase deadline, a limit)."""
        if self.process.poll() is None and not self.stopping:
            self.killed_for = reason
            self._kill_all()

    def _kill_all(self) -> None:
        self.note_descendants()
        _kill_group(self.process)
        with self._seen_lock:
            seen = list(self.descendants)
        for process in seen:
            # psutil checks the process is the one seen (pid and start time), never a reused pid
            with contextlib.suppress(psutil.Error):
                process.kill()

    def terminate(self, grace: float = STOP_GRACE) -> int | None:
        """SIGTERM, wait up to `grace` seconds, then SIGKILL the whole group; return the exit code."""
        self.stopping = True
        if self.process.poll() is None:
            self.note_descendants()  # before SIGTERM: once the app is gone, its children are orphans
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)
        self._kill_all()
        self.exit_code = self.process.wait(5)
        self.log.join(5)
        return self.exit_code


def _session(pid: int) -> int | None:
    """The session id of process `pid` (as the grader's PID namespace numbers it), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[3])  # after the command: state, ppid, pgrp, session


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    # The app runs in a session of its own: its pid is the group id, and children it left go too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _watch_memory(app: AppProcess, limit: int) -> None:
    """Kill the app when its process tree holds more than `limit` bytes of resident memory."""
    try:
        root = psutil.Process(app.pid)
        while app.process.poll() is None:
            try:
                rss = sum(p.memory_info().rss for p in [root, *app.note_descendants()])
            except psutil.Error:
                rss = 0  # a child came or went while we looked: look again
            if rss > limit:
                app.kill(f"killed: memory limit ({rss >> 20} MiB resident, limit {limit >> 20} MiB)")
                return
            time.sleep(WATCH_INTERVAL)
    except psutil.NoSuchProcess:
        return


def app_environment(extra: Mapping[str, str], home: Path, lib: Path) -> dict[str, str]:
    env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    env.update(
        PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
        HOME=str(home),
        TMPDIR=str(home),
        PYTHONPATH=str(lib),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def run_app(
    app_dir: Path,
    env: Mapping[str, str],
    *,
    lifespan: str = "on",
    ready_timeout: float = READY_TIMEOUT,
    log_cap: int = LOG_CAP,
    memory_limit: int = MEMORY_LIMIT,
    extra_env: Mapping[str, str] | None = None,
    asyncio_debug: bool = False,
    netns: NetNamespace | None = None,
) -> Iterator[AppProcess]:
    """Run `app.main:app` from `app_dir`; yield once GET /health answers 200; always stop it.

    When we are root the app runs as a fresh unprivileged account that owns only its copy and its home
    and, where the kernel allows, in the deployment's network namespace `netns`, a PID namespace and a
    root file system of its own (`_sandbox`).
    """
    box = sandbox()
    ids = box.ids()
    work = Path(tempfile.mkdtemp(prefix="kit-app-"))  # the grader's: the app's home, its library, its log
    home, lib, root = work / "home", work / "lib", work / "root"
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    app: AppProcess | None = None
    try:
        home.mkdir()
        lib.mkdir()
        root.mkdir()
        (lib / "kit_debugloop.py").write_text(DEBUG_LOOP_SOURCE.read_text())
        if ids is not None:
            (lib / "kit_debugloop.py").chmod(0o644)
            if not box.mount:  # in its own root, the paths to these are directories of its own
                for path in (home, lib, app_dir):
                    make_traversable(path)
            box.prepare(runtime_paths(sys.executable))
            hand_over(home, ids)
            hand_over(app_dir, ids)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # uvicorn wraps an inherited fd as AF_UNIX, so asyncio never disables Nagle on accepted
        # connections and every answer would wait ~40 ms for a delayed ACK. Accepted sockets inherit
        # TCP_NODELAY from the listener on Linux.
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1024)
        port = listener.getsockname()[1]
        uvicorn = [
            "-m",
            "uvicorn",
            "app.main:app",
            "--app-dir",
            str(app_dir),
            "--fd",
            str(listener.fileno()),
            "--loop",  # asyncio, whose debug mode gives supporting evidence (uvloop has none)
            DEBUG_LOOP if asyncio_debug else "asyncio",
            "--lifespan",
            lifespan,
            "--no-access-log",
            "--timeout-graceful-shutdown",
            str(int(STOP_GRACE)),
        ]
        runtime = [lib, Path(sys.prefix), Path(sys.base_prefix)]
        namespace_fd = netns.fd if netns is not None and box.network else None
        command = box.command(
            sys.executable, uvicorn, cwd=app_dir, writable=[app_dir, home], readable=runtime, ids=ids, root=root,
            home=home, netns_fd=namespace_fd,
        )  # fmt: skip
        process = subprocess.Popen(
            command,
            cwd=app_dir,
            env=app_environment({**env, **(extra_env or {})}, home, lib),
            pass_fds=[listener.fileno(), *([namespace_fd] if namespace_fd is not None else [])],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert process.stdout is not None
        app = AppProcess(
            url=f"http://127.0.0.1:{port}", process=process, log=CappedLog(process.stdout, work / "app.log", log_cap)
        )
        listener.close()  # the child holds the socket now; our copy would keep the port alive after it dies
        threading.Thread(target=_watch_memory, args=(app, memory_limit), name="memory", daemon=True).start()
        _wait_ready(app, ready_timeout)
        yield app
    finally:
        listener.close()
        if app is not None:
            app.terminate()
            app.log.keep()
        shutil.rmtree(work, ignore_errors=True)


def _wait_ready(app: AppProcess, timeout: float) -> None:
    started = time.monotonic()

    def healthy() -> bool:
        if not app.alive():
            app.log.join(2)  # let the last lines land before quoting them
            raise _ended_early(app)
        return httpx.get(f"{app.url}/health", timeout=2.0).status_code == 200

    try:
        wait_until(healthy, timeout=timeout, what="the app (GET /health)", interval=0.1, fatal=(AppStartError,))
    except NotReadyError as exc:
        if not app.alive():
            raise _ended_early(app) from None
        elsewhere = _listening_elsewhere(app)
        where = f"; it listens on {', '.join(elsewhere)} instead of the socket it was given" if elsewhere else ""
        raise AppStartError(f"{exc} ({time.monotonic() - started:.0f} s){where}; log tail:\n{app.log_tail()}") from None


def _listening_elsewhere(app: AppProcess) -> list[str]:
    """The addresses the app's process tree listens on, other than the socket the grader handed it.

    Read from each process's own view (/proc/PID/net: its network namespace, which psutil does not use).
    """
    found: set[str] = set()
    try:
        tree = [psutil.Process(app.pid), *app.note_descendants()]
    except psutil.Error:
        return []
    for process in tree:
        for host, port in listening_sockets(process.pid):
            if port != app.port:
                found.add(f"{host}:{port}")
    return sorted(found)


TCP_LISTEN = "0A"


def listening_sockets(pid: int) -> set[tuple[str, int]]:
    """(host, port) of every TCP socket process `pid` holds that listens, in its network namespace."""
    try:
        inodes = set()
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
        tables = [(Path(f"/proc/{pid}/net/{name}").read_text(), family) for name, family in (("tcp", 4), ("tcp6", 6))]
    except OSError:
        return set()
    found = set()
    for table, family in tables:
        for line in table.splitlines()[1:]:
            fields = line.split()
            if len(fields) > 9 and fields[3] == TCP_LISTEN and fields[9] in inodes:
                address, port = fields[1].split(":")
                found.add((_host(address, family), int(port, 16)))
    return found


def _host(hexed: str, family: int) -> str:
    """An address as /proc/net/tcp* prints it (32-bit words in host byte order) made readable."""
    raw = bytes.fromhex(hexed)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4)) if sys.byteorder == "little" else raw
    if family == 4:
        return socket.inet_ntop(socket.AF_INET, words)
    return f"[{socket.inet_ntop(socket.AF_INET6, words)}]"


def _ended_early(app: AppProcess) -> AppStartError:
    # A watchdog kill (the memory limit) shows only as SIGKILL's exit code: say why it came.
    why = f"; {app.killed_for}" if app.killed_for else ""
    return AppStartError(
        f"the app exited with code {app.process.returncode} before it was ready{why}:\n{app.log_tail()}"
    )
