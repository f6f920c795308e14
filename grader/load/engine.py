"""Drive Locust headless for one scenario against one running app; watch its CPU; collect its histograms.

With `workers` > 1 Locust runs as a master and that many workers (its distributed mode), all on this
machine and pinned to the generator's cores. With `remote_workers` the master also waits for that many
workers started by hand on other machines (`locust -f grader/load/_locustfile.py --worker
--master-host THIS_HOST --master-port PORT`), listening on `master_bind`.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from grader.infra import stop
from grader.load.scenario import Scenario

LOCUSTFILE = Path(__file__).with_name("_locustfile.py")
# At the end, requests in flight get this long to finish; those still running then are recorded as
# "unfinished", with the time they had taken so far (their true latency is at least that).
STOP_GRACE_S = 2
START_ALLOWANCE_S = 30.0  # Locust's own start-up and shut-down, beyond the scenario's duration
REMOTE_WAIT_S = 120  # how long the master waits for workers on other machines to connect
CPU_SAMPLE_S = 0.5
LOG_TAIL_LINES = 15
USER_CLASS = {"closed": "ClosedUser", "open": "ArrivalUser"}

Progress = Callable[[dict[str, Any]], None]


class GeneratorError(RuntimeError):
    """The load generator did not produce a result (it crashed, or overran its deadline)."""


@dataclass
class GeneratorRun:
    """What the generator recorded, and how hard it had to work to do it."""

    data: dict[str, Any]
    cpu_percent: list[float]  # per generator process: mean over the measured window
    processes: int
    cpus: list[int] | None
    wall_s: float
    samples: list[tuple[float, list[float]]] = field(default_factory=list, repr=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _command(scenario: Scenario, url: str, spec: str, work: Path, role: list[str]) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", url, "--only-summary",
        "--loglevel", "WARNING", "--stop-timeout", str(STOP_GRACE_S), "--exit-code-on-error", "0",
        "--kit-spec", spec, "--kit-out", str(work / "out.json"), "--kit-progress", str(work / "progress.jsonl"),
        *role, USER_CLASS[scenario.model],
    ]  # fmt: skip


def _commands(
    scenario: Scenario, url: str, spec: str, work: Path, *, workers: int, remote_workers: int, bind: tuple[str, int]
) -> list[list[str]]:
    """The Locust processes to start: one alone, or a master and its local workers (remote ones join it)."""
    if workers <= 1 and not remote_workers:
        return [_command(scenario, url, spec, work, [])]
    host, port = bind
    master = ["--master", "--master-bind-host", host, "--master-bind-port", str(port),
              "--expect-workers", str(workers + remote_workers)]  # fmt: skip
    if remote_workers:  # bounded: a master whose remote workers never come gives up instead of waiting forever
        master += ["--expect-workers-max-wait", str(REMOTE_WAIT_S)]
    worker = ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    return [_command(scenario, url, spec, work, master)] + [
        _command(scenario, url, spec, work, worker) for _ in range(workers)
    ]


@contextlib.contextmanager
def _processes(
    commands: list[list[str]], work: Path, cpus: list[int] | None
) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        for number, command in enumerate(commands):
            log = (work / f"locust-{number}.log").open("wb")
            process = subprocess.Popen(
                command, cwd=work, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            log.close()
            started.append(process)
            if cpus:  # before the interpreter has started a thread: every later one inherits it
                with contextlib.suppress(psutil.Error):
                    psutil.Process(process.pid).cpu_affinity(cpus)
        yield started
    finally:
        for process in started:
            stop(process, signal.SIGTERM, group=True, timeout=5)


def run_locust(
    scenario: Scenario,
    url: str,
    *,
    seed: int,
    workers: int = 1,
    cpus: list[int] | None = None,
    progress: Progress | None = None,
    remote_workers: int = 0,
    master_bind: str = "127.0.0.1",
    master_port: int = 0,
    say: Callable[[str], None] = print,
) -> GeneratorRun:
    """Run `scenario` against `url`; GeneratorError if Locust fails to deliver its histograms in time."""
    spec = json.dumps({**scenario.as_dict(), "seed": seed})
    work = Path(tempfile.mkdtemp(prefix="kit-load-"))
    try:
        allowance = START_ALLOWANCE_S
        port = master_port or (_free_port() if workers > 1 or remote_workers else 0)
        commands = _commands(
            scenario, url, spec, work, workers=workers, remote_workers=remote_workers, bind=(master_bind, port)
        )
        if remote_workers:
            allowance += REMOTE_WAIT_S
            say(f"    waiting for {remote_workers} remote workers: locust -f grader/load/_locustfile.py "
                f"--worker --master-host <this host> --master-port {port}")  # fmt: skip
        started = time.monotonic()
        with _processes(commands, work, cpus) as processes:
            samples = _watch(processes, work, scenario.duration_s + allowance, progress)
        out = work / "out.json"
        if not out.exists():
            raise GeneratorError(f"Locust wrote no results; its log ends:\n{_log_tail(work)}")
        data = json.loads(out.read_text())
        wall = time.monotonic() - started
        return GeneratorRun(
            data=data,
            cpu_percent=_measured_cpu(samples, data.get("t0"), scenario),
            processes=len(commands),
            cpus=cpus,
            wall_s=round(wall, 2),
            samples=samples,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _watch(
    processes: list[subprocess.Popen[bytes]], work: Path, deadline_s: float, progress: Progress | None
) -> list[tuple[float, list[float]]]:
    """Sample the generator's CPU until its master ends; stop it all at the deadline."""
    handles = [psutil.Process(p.pid) for p in processes]
    for handle in handles:
        with contextlib.suppress(psutil.Error):
            handle.cpu_percent(None)
    samples: list[tuple[float, list[float]]] = []
    lines_seen = 0
    ends = time.monotonic() + deadline_s
    while processes[0].poll() is None:
        if time.monotonic() > ends:
            raise GeneratorError(f"Locust did not finish within {deadline_s:.0f} s; its log ends:\n{_log_tail(work)}")
        time.sleep(CPU_SAMPLE_S)
        now = time.time()
        usage = []
        for handle in handles:
            try:
                usage.append(handle.cpu_percent(None))
            except psutil.Error:
                usage.append(0.0)
        samples.append((now, usage))
        if progress is not None:
            lines_seen = _report_progress(work / "progress.jsonl", lines_seen, progress)
    return samples


def _report_progress(path: Path, seen: int, progress: Progress) -> int:
    with contextlib.suppress(OSError, ValueError):
        lines = path.read_text().splitlines()
        if len(lines) > seen and lines[-1].endswith("}"):
            progress(json.loads(lines[-1]))
            return len(lines)
    return seen


def _measured_cpu(samples: list[tuple[float, list[float]]], t0: float | None, scenario: Scenario) -> list[float]:
    """Each process's mean CPU % over the measured window (after warm-up, before the end)."""
    if t0 is None:
        return []
    window = [usage for at, usage in samples if t0 + scenario.warmup_s <= at <= t0 + scenario.duration_s]
    if not window:
        return []
    return [round(sum(column) / len(column), 1) for column in zip(*window, strict=True)]


def _log_tail(work: Path) -> str:
    tails = []
    for log in sorted(work.glob("locust-*.log")):
        lines = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        tails.append(f"[{log.name}]\n" + "\n".join(lines))
    return "\n".join(tails) or "(no output)"


def start_progress_printer(say: Callable[[str], None], label: str, total_s: float) -> Progress:
    """A progress callback printing at most every 3 s: scenario, requests per second, p95 so far, time left."""
    last = {"at": 0.0, "requests": 0, "elapsed": 0.0}
    lock = threading.Lock()

    def show(update: dict[str, Any]) -> None:
        with lock:
            if time.monotonic() - last["at"] < 3.0:
                return
            elapsed = float(update["elapsed_s"])
            rate = (update["requests"] - last["requests"]) / max(elapsed - last["elapsed"], 1e-3)
            last.update(at=time.monotonic(), requests=update["requests"], elapsed=elapsed)
            p95 = update.get("p95_ms")
            shown = f"{p95:.1f} ms" if p95 is not None else "(warm-up)"
            say(f"    {label:<40} {rate:8.0f} req/s  p95 {shown:>10}  {max(0.0, total_s - elapsed):4.0f} s left")

    return show
