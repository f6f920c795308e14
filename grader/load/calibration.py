"""The reference solution's run of the same scenarios: fresh in this session, or reused from a cache.

A cached run is reused only when it was made on the same machine (fingerprint) with the same kit
(grader version, scenarios, reference solution, load code, pinned packages, generator workers); the
report says which it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from grader import __version__
from grader.environment import ROOT, cpu_model
from grader.load.scenario import Scenario
from grader.runner.submission import content_hash

REFERENCE_APP = ROOT / "solution"
CACHE_DIR = ROOT / ".cache" / "reference"
CACHE_FORMAT = 1


def fingerprint() -> dict[str, Any]:
    """What makes two runs comparable as "the same machine"."""
    machine_id = ""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            machine_id = Path(path).read_text().strip()
            break
        except OSError:
            continue
    return {
        "machine_id": hashlib.sha256(machine_id.encode()).hexdigest()[:16] if machine_id else None,
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "memory_gib": round(psutil.virtual_memory().total / 2**30),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def kit_version(scenarios: list[Scenario], workers: int) -> dict[str, Any]:
    """What makes two reference runs "the same kit": any change here invalidates a cached run."""
    load_code = sorted(Path(__file__).parent.glob("*.py"))
    return {
        "grader": __version__,
        "scenarios": hashlib.sha256(
            json.dumps([s.as_dict() | {"source": ""} for s in scenarios], sort_keys=True).encode()
        ).hexdigest()[:16],
        "reference_app": content_hash(REFERENCE_APP / "app")[:16],  # its code: a README edit changes nothing
        "load_code": _digest(load_code),
        "packages": _digest([ROOT / "pyproject.toml"]),
        "workers": workers,
    }


def cache_key(machine: dict[str, Any], kit: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps([machine, kit], sort_keys=True).encode()).hexdigest()[:24]


def load_cached(machine: dict[str, Any], kit: dict[str, Any]) -> dict[str, Any] | None:
    """A cached reference run for exactly this machine and kit, or None."""
    path = CACHE_DIR / f"{cache_key(machine, kit)}.json"
    try:
        cached: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if cached.get("format") != CACHE_FORMAT or cached.get("fingerprint") != machine or cached.get("kit") != kit:
        return None
    return cached


def store(machine: dict[str, Any], kit: dict[str, Any], runs: dict[str, Any]) -> dict[str, Any]:
    """Cache a (fully valid) reference run; return the cache record."""
    record = {
        "format": CACHE_FORMAT,
        "fingerprint": machine,
        "kit": kit,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": runs,
    }
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"{cache_key(machine, kit)}.json"
    part = path.with_suffix(".part")
    part.write_text(json.dumps(record))
    part.replace(path)
    return record
