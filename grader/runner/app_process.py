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

from grader.infra import NotReadyError, make_traversable, wait_until
from grader.runner._output import CappedLog
from grader.runner._sandbox import hand_over, sandbox

READY_TIMEOUT = 30.0
STOP_GRACE = 10.0
LOG_CAP = 8 * 1024 * 1024
MEMORY_LIMIT = 1536 * 1024 * 1024  # resident memory of the app and its children
WATCH_INTERVAL = 0.25
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
            self.descendants.update(found)
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
) -> Iterator[AppProcess]:
    """Run `app.main:app` from `app_dir`; yield once GET /health answers 200; always stop it.

    When we are root the app runs as an unprivileged account that owns only its copy and its home and,
    where the kernel allows, sees neither the kit's files nor the machine's shared scratch directories.
    """
    box = sandbox()
    work = Path(tempfile.mkdtemp(prefix="kit-app-"))  # the grader's: the app's home, its library, its log
    home, lib = work / "home", work / "lib"
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    app: AppProcess | None = None
    try:
        home.mkdir()
        lib.mkdir()
        (lib / "kit_debugloop.py").write_text(DEBUG_LOOP_SOURCE.read_text())
        if box.ids is not None:
            (lib / "kit_debugloop.py").chmod(0o644)
            for path in (home, lib, app_dir, Path(sys.executable).parent, Path(sys.executable).resolve().parent):
                make_traversable(path)  # a venv's python links to the base one
            hand_over(home, box.ids)
            hand_over(app_dir, box.ids)
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
        command = box.command(sys.executable, uvicorn, cwd=app_dir, writable=[app_dir, home], readable=runtime)
        process = subprocess.Popen(
            command,
            cwd=app_dir,
            env=app_environment({**env, **(extra_env or {})}, home, lib),
            pass_fds=[listener.fileno()],
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
    """The addresses the app's process tree listens on, other than the socket the grader handed it."""
    found: set[str] = set()
    try:
        tree = [psutil.Process(app.pid), *app.note_descendants()]
    except psutil.Error:
        return []
    for process in tree:
        try:
            connections = process.net_connections(kind="inet")
        except psutil.Error:
            continue
        for conn in connections:
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port != app.port:
                host = f"[{conn.laddr.ip}]" if ":" in conn.laddr.ip else conn.laddr.ip
                found.add(f"{host}:{conn.laddr.port}")
    return sorted(found)


def _ended_early(app: AppProcess) -> AppStartError:
    # A watchdog kill (the memory limit) shows only as SIGKILL's exit code: say why it came.
    why = f"; {app.killed_for}" if app.killed_for else ""
    return AppStartError(
        f"the app exited with code {app.process.returncode} before it was ready{why}:\n{app.log_tail()}"
    )
