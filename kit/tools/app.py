"""Your app under uvicorn, started as the grader starts it (one process, the asyncio loop), stopped for sure."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from tools._reap import stop
from tools._wait import NotReadyError, wait_until

KIT_ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 60.0
STOP_GRACE = 10  # seconds uvicorn may take to finish requests on SIGTERM before it is killed


class AppError(RuntimeError):
    """The app did not start; the message says why."""


@dataclass(frozen=True)
class RunningApp:
    url: str
    process: subprocess.Popen[bytes]

    def alive(self) -> bool:
        return self.process.poll() is None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_app(
    env: Mapping[str, str], *, port: int = 0, log: Path | None = None, access_log: bool = True, reload: bool = False
) -> Iterator[RunningApp]:
    """Run `uvicorn app.main:app` from the kit's root; yield it once GET /health answers 200.

    Its output goes to `log` when given, else to this terminal. It runs in a process group of its own,
    which is stopped (SIGTERM, then SIGKILL after a grace period) when the context ends.
    """
    port = port or free_port()
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
               "--loop", "asyncio", "--timeout-graceful-shutdown", str(STOP_GRACE)]  # fmt: skip
    if not access_log:
        command.append("--no-access-log")
    if reload:
        command += ["--reload", "--reload-dir", "app"]
    with contextlib.ExitStack() as cleanup:
        output = cleanup.enter_context(log.open("wb")) if log else None
        process = subprocess.Popen(
            command,
            cwd=KIT_ROOT,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,  # Ctrl-C reaches us, and we stop the app with all it started
        )
        # SIGTERM lets uvicorn finish its requests; whatever is left of the group is killed after the grace.
        cleanup.callback(stop, process, signal.SIGTERM, group=True, timeout=STOP_GRACE + 5)
        url = f"http://127.0.0.1:{port}"
        _wait_ready(process, url, log)
        yield RunningApp(url, process)


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path | None) -> None:
    where = f"its output is in {log}" if log else "its output is above"

    def ready() -> bool:
        if process.poll() is not None:
            raise AppError(f"the app exited with code {process.returncode} before answering GET /health; {where}")
        return httpx.get(f"{url}/health", timeout=2.0, trust_env=False).status_code == 200

    try:
        wait_until(ready, timeout=READY_TIMEOUT, what="the app (GET /health)", interval=0.2, fatal=(AppError,))
    except NotReadyError as exc:
        raise AppError(f"{exc}; {where}") from None
