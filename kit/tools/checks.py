"""The public checks: the smoke tests (pytest) and the load test (Locust), each bounded in time."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

from tools.app import KIT_ROOT

SMOKE_TIMEOUT = 300
LOAD_GRACE = 120  # seconds beyond the run time for Locust to start, stop its users and print


def run_smoke(url: str, pytest_args: Sequence[str] = ()) -> int:
    command = [sys.executable, "-m", "pytest", "smoke", "-q", "-p", "no:cacheprovider", *pytest_args]
    env = {**os.environ, "KIT_APP_URL": url}
    try:
        return subprocess.run(command, cwd=KIT_ROOT, env=env, timeout=SMOKE_TIMEOUT, check=False).returncode
    except subprocess.TimeoutExpired:
        print(f"error: the smoke tests took longer than {SMOKE_TIMEOUT} s", file=sys.stderr)
        return 1


def run_load(url: str, *, users: int, spawn_rate: float, duration: int) -> int:
    """Locust, headless, against `url`; it prints the latency summary when the run time is over."""
    command = [
        sys.executable, "-m", "locust", "-f", "load/locustfile.py", "--headless", "--host", url,
        "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{duration}s",
        "--stop-timeout", "5", "--only-summary",
        "--exit-code-on-error", "0",  # failed requests are results to read, not a failed run
    ]  # fmt: skip
    print(f"load: {users} users for {duration} s against {url} ...", flush=True)
    try:
        return subprocess.run(command, cwd=KIT_ROOT, timeout=duration + LOAD_GRACE, check=False).returncode
    except subprocess.TimeoutExpired:
        print(f"error: Locust did not finish within {duration + LOAD_GRACE} s", file=sys.stderr)
        return 1
