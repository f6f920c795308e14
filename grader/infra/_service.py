"""Run a helper service (`python -m MODULE`) as a child process, and the child's side of the handshake.

The handshake: the parent passes `--ready-file F`; once listening, the child writes its ports to F as JSON
(atomically, so the parent never reads half a file). The parent trusts the file only once a real check
passes: `GET /health` on the child's control port answers 200.

Control ports take a random token per service (header `TOKEN_HEADER`, handed to the child in its
environment, never on its command line): a request without it gets 403 and is counted, so an app that
finds the port on a shared loopback can neither read nor switch the faults.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from ._reap import stop
from ._wait import NotReadyError, wait_until

STOP_TIMEOUT = 5.0
PARENT_CHECK_S = 0.5
LOG_CAP_BYTES = 4 * 1024 * 1024  # a runaway child must not fill the disk; the tail is kept in memory anyway
TAIL_LINES = 200
TOKEN_HEADER = "x-kit-control-token"  # noqa: S105 (a header name, not a secret)
TOKEN_ENV = "KIT_CONTROL_TOKEN"  # noqa: S105 (a variable name)


class ServiceError(RuntimeError):
    """A helper service did not start, or died; the message carries its log tail."""


class _LogDrain:
    """Copies the child's output to a size-capped file and keeps the last lines in memory."""

    def __init__(self, source: IO[bytes], path: Path) -> None:
        self._source = source
        self._path = path
        self._tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"log-drain-{path.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        written = 0
        with self._path.open("wb") as log:
            for line in iter(self._source.readline, b""):
                with self._lock:
                    self._tail.append(line.decode(errors="replace").rstrip("\n"))
                if written < LOG_CAP_BYTES:
                    log.write(line)
                    log.flush()
                    written += len(line)
                    if written >= LOG_CAP_BYTES:
                        log.write(b"[log capped; later lines only in memory]\n")
        self._source.close()

    def tail(self, lines: int) -> str:
        with self._lock:
            return "\n".join(list(self._tail)[-lines:])

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


@dataclass
class ServiceProcess:
    """A running helper service: its ready info (`port`, `control_port`, `pid`, ...) and its log."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    info: dict[str, Any] = field(default_factory=dict)
    token: str = ""  # what its control port requires in TOKEN_HEADER
    _drain: _LogDrain | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return int(self.info["port"])

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{int(self.info['control_port'])}"

    def log_tail(self, lines: int = 40) -> str:
        if self._drain is None:
            return "(no log)"
        return self._drain.tail(lines) or "(empty log)"


def _read_ready_file(path: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _healthy(control_port: int, token: str) -> bool:
    response = httpx.get(
        f"http://127.0.0.1:{control_port}/health", headers={TOKEN_HEADER: token}, timeout=2.0, trust_env=False
    )
    return response.status_code == 200


@contextlib.contextmanager
def start_service(
    module: str, args: list[str], *, name: str, ready_timeout: float = 20, pass_fds: tuple[int, ...] = ()
) -> Iterator[ServiceProcess]:
    """Run `python -m module *args` until the context ends; yield once its control port answers."""
    root = Path(tempfile.mkdtemp(prefix=f"kit-{name}-"))
    ready_file = root / "ready.json"
    process: subprocess.Popen[bytes] | None = None
    service: ServiceProcess | None = None
    token = secrets.token_urlsafe(24)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args, "--ready-file", str(ready_file)],
            env={**os.environ, TOKEN_ENV: token},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=pass_fds,
            start_new_session=True,  # its own process group: stopping it takes everything it started
        )
        assert process.stdout is not None
        service = ServiceProcess(name, process, root / f"{name}.log", token=token)
        service._drain = _LogDrain(process.stdout, service.log_path)

        def ready() -> bool:
            assert process is not None
            if process.poll() is not None:
                return True  # stop waiting; reported below
            info = _read_ready_file(ready_file)
            if info is None or not _healthy(int(info["control_port"]), token):
                return False
            service.info = info
            return True

        try:
            wait_until(ready, timeout=ready_timeout, what=name)
        except NotReadyError as exc:
            raise ServiceError(f"{exc}\n--- {name} log ---\n{service.log_tail()}") from None
        if process.poll() is not None:
            service._drain.join(2.0)
            raise ServiceError(
                f"{name} exited with {process.returncode} while starting\n--- {name} log ---\n{service.log_tail()}"
            )
        yield service
    finally:
        if process is not None:
            stop(process, signal.SIGTERM, group=True, timeout=STOP_TIMEOUT)
        if service is not None and service._drain is not None:
            service._drain.join(2.0)
        shutil.rmtree(root, ignore_errors=True)


def write_ready_file(path: str | os.PathLike[str], info: dict[str, Any]) -> None:
    """The child's side: publish `info` at `path` atomically (write a temp file, then rename it)."""
    target = Path(path)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(info))
    os.replace(temp, target)


def run_child(main: Coroutine[Any, Any, None]) -> None:
    """The child's side: run its main coroutine on uvloop when installed (it is a speed-up only)."""
    try:
        import uvloop  # noqa: PLC0415 - optional

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(main)


def control_token() -> str | None:
    """The child's side: the token its control port requires, or None when run by hand (no grader)."""
    return os.environ.pop(TOKEN_ENV, None) or None


async def serve_until_terminated(ready_file: str, info: dict[str, Any]) -> None:
    """The child's side: announce `info` (the pid is added), then wait for SIGTERM or SIGINT, or for the
    parent to die without sending either (killed, say): a service never outlives the grade that needs it."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    parent = os.getppid()
    write_ready_file(ready_file, {**info, "pid": os.getpid()})
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PARENT_CHECK_S)
        if os.getppid() != parent:  # re-parented: whoever started it is gone
            return


class ControlError(RuntimeError):
    """A helper service refused a control request (e.g. 400 for an unknown config field)."""


class ControlClient:
    """Calls a helper service's control port; short timeouts, never through an HTTP proxy."""

    def __init__(self, service: ServiceProcess, timeout: float = 5.0) -> None:
        self._service = service
        self._http = httpx.Client(
            base_url=service.control_url, headers={TOKEN_HEADER: service.token}, timeout=timeout, trust_env=False
        )

    def call(self, method: str, path: str, payload: Any = None) -> Any:
        name = self._service.name
        try:
            response = self._http.request(method, path, json=payload)
        except httpx.TransportError as exc:
            state = "running" if self._service.running else f"exited with {self._service.process.returncode}"
            raise ServiceError(
                f"{name} {method} {path}: {exc!r} ({name} {state})\n--- {name} log ---\n{self._service.log_tail()}"
            ) from exc
        if response.status_code >= 400:
            raise ControlError(f"{name} {method} {path}: {response.status_code} {response.text}")
        return response.json()

    def close(self) -> None:
        self._http.close()
