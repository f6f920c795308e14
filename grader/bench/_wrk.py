"""wrk, the independent load tool the benchmark checks the grader's own numbers against."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader import kitdata

INSTALL_TIMEOUT_S = 600
# Random product ids, like the grader's scenario (wrk alone would hit one cached row).
SCRIPT = f"""
math.randomseed(7)
request = function()
  local id = math.random(1, {kitdata.PRODUCTS})
  if id % {kitdata.LOW_STOCK_EVERY} == 0 then id = id + 1 end
  return wrk.format("GET", "/products/" .. id)
end
"""
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    errors: int


def ensure_wrk(say: Callable[[str], None] = print) -> str | None:
    """wrk's path; installed from the system package manager when we are root and it is missing."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    say("    installing wrk (apt-get install wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        try:
            subprocess.run(command, env=env, capture_output=True, timeout=INSTALL_TIMEOUT_S, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
    return shutil.which("wrk")


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(output: str) -> WrkResult:
    """The figures of `wrk --latency` output."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    percentiles = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)$", output, re.MULTILINE))
    if not rate or not total or set(percentiles) != {"50", "90", "99"}:
        raise ValueError(f"unexpected wrk output:\n{output[-800:]}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests_per_s=float(rate.group(1)),
        p50_ms=_ms(percentiles["50"]),
        p90_ms=_ms(percentiles["90"]),
        p99_ms=_ms(percentiles["99"]),
        requests=int(total.group(1)),
        errors=errors + (int(non_2xx.group(1)) if non_2xx else 0),
    )


def run_wrk(wrk: str, url: str, *, connections: int, seconds: int, cpus: list[int] | None) -> WrkResult:
    """One wrk run (a single thread, like the grader's single generator process) on `cpus`."""
    with tempfile.TemporaryDirectory(prefix="kit-wrk-") as work:
        script = Path(work) / "products.lua"
        script.write_text(SCRIPT)
        command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url]
        if cpus and shutil.which("taskset"):
            command = ["taskset", "-c", ",".join(map(str, cpus)), *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return parse(done.stdout)
