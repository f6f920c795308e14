"""Start a submission under uvicorn in its own process group, wait until it answers, stop it for sure.

The grader owns the listening socket and hands it to uvicorn (`--fd`): no port race, and the app cannot
choose where it listens. The app is ready when `GET /health` answers 200 before a deadline.
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
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from grader.infra._wait import NotReadyError, wait_until
from grader.runner._output import CappedLog

READY_TIMEOUT = 30.0
STOP_GRACE = 10.0
LOG_CAP = 8 * 1024 * 1024
# What the app gets from our environment; everything else is scrubbed.
PASSED_THROUGH = ("LANG", "LC_ALL", "TZ")


class AppStartError(RuntimeError):
    """The app did not become ready; the message carries the reason and its log tail."""


@dataclass
class AppProcess:
    """A running submission."""

    url: str
    process: subprocess.Popen[bytes]
    log: CappedLog
    exit_code: int | None = field(default=None)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        return self.log.tail(lines)

    def log_text(self) -> str:
        return self.log.text()

    def terminate(self, grace: float = STOP_GRACE) -> int | None:
        """SIGTERM, wait up to `grace` seconds, then SIGKILL the whole group; return the exit code."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)
        _kill_group(self.process)
        self.exit_code = self.process.wait(5)
        self.log.join(5)
        return self.exit_code


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    # The app runs in a session of its own: its pid is the group id, and children it left go too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def app_environment(extra: Mapping[str, str], home: Path) -> dict[str, str]:
    env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    env.update(
        PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
        HOME=str(home),
        TMPDIR=str(home),
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
) -> Iterator[AppProcess]:
    """Run `app.main:app` from `app_dir`; yield once GET /health answers 200; always stop it."""
    home = Path(tempfile.mkdtemp(prefix="kit-app-"))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    app: AppProcess | None = None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # uvicorn wraps an inherited fd as AF_UNIX, so asyncio never disables Nagle on accepted
        # connections and every answer would wait ~40 ms for a delayed ACK. Accepted sockets inherit
        # TCP_NODELAY from the listener on Linux.
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1024)
        port = listener.getsockname()[1]
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--app-dir",
            str(app_dir),
            "--fd",
            str(listener.fileno()),
            "--loop",
            "asyncio",  # asyncio's debug mode gives supporting evidence; uvloop has none
            "--lifespan",
            lifespan,
            "--no-access-log",
            "--timeout-graceful-shutdown",
            str(int(STOP_GRACE)),
        ]
        process = subprocess.Popen(
            command,
            cwd=app_dir,
            env=app_environment(env, home),
            pass_fds=[listener.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert process.stdout is not None
        app = AppProcess(
            url=f"http://127.0.0.1:{port}", process=process, log=CappedLog(process.stdout, home / "app.log", log_cap)
        )
        listener.close()  # the child holds the socket now; our copy would keep the port alive after it dies
        _wait_ready(app, ready_timeout)
        yield app
    finally:
        listener.close()
        if app is not None:
            app.terminate()
        shutil.rmtree(home, ignore_errors=True)


def _wait_ready(app: AppProcess, timeout: float) -> None:
    started = time.monotonic()

    def healthy() -> bool:
        if not app.alive():
            app.log.join(2)  # let the last lines land before quoting them
            raise AppStartError(
                f"the app exited with code {app.process.returncode} before it was ready:\n{app.log_tail()}"
            )
        return httpx.get(f"{app.url}/health", timeout=2.0).status_code == 200

    try:
        wait_until(healthy, timeout=timeout, what="the app (GET /health)", interval=0.1, fatal=(AppStartError,))
    except NotReadyError as exc:
        if not app.alive():
            raise AppStartError(
                f"the app exited with code {app.process.returncode} before it was ready:\n{app.log_tail()}"
            ) from None
        raise AppStartError(f"{exc} ({time.monotonic() - started:.0f} s); log tail:\n{app.log_tail()}") from None
