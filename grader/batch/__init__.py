"""Grade a cohort in turn: `python -m grader.batch [--out DIR] SUBMISSION... [-- GRADE OPTIONS]`.

Each SUBMISSION is a directory, a tarball, a git repository, or a text file listing one of those (or a git
URL) per line. Each is graded by its own `python -m grader grade` process into DIR/<name>/, one progress
line per candidate; a grade that fails is reported and the batch goes on. A candidate whose DIR/<name>/
already holds a finished report of the same source is not graded again, so an interrupted batch resumes
where it stopped. The batch ends with the compare page (with similarity) in DIR/compare/.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.pipeline import submission_name

GRADE_TIMEOUT = 45 * 60.0  # one candidate, load included, with a wide margin; then it counts as failed
STOP_S = 60.0  # for a grade over time to stop what it started
STATE = "batch.json"


@dataclass
class Outcome:
    name: str
    source: str
    status: str  # graded | resumed | failed
    detail: str
    seconds: float


def expand(arguments: Sequence[str]) -> list[str]:
    """The submissions named: a text file (not a tarball, not a repository) lists one per line."""
    found: list[str] = []
    for argument in arguments:
        path = Path(argument)
        listing = path.is_file() and path.suffix in {".txt", ".list", ""} and not argument.endswith((".tar.gz", ".tgz"))
        if listing:
            lines = path.read_text(errors="replace").splitlines()
            found += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
        else:
            found.append(argument)
    return list(dict.fromkeys(found))


def _names(sources: Sequence[str]) -> list[str]:
    """A directory name per source, distinct: two `submission.tar.gz` from two folders keep both."""
    names: list[str] = []
    for source in sources:
        name = submission_name(source)
        if name in names:
            parent = re.sub(r"[^\w.-]+", "-", Path(source.rstrip("/")).parent.name) or "x"
            name = f"{parent}-{name}"
        while name in names:
            name += "-2"
        names.append(name)
    return names


def _finished(out: Path, source: str) -> str | None:
    """The score line of a finished report of `source` in `out`, or None when it must be graded."""
    try:
        report = json.loads((out / "report.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict) or (report.get("submission") or {}).get("source") != source:
        return None
    score = report.get("score") or {}
    return f"{report.get('status')}, score {score.get('overall', '—')}"


def grade_all(
    sources: Sequence[str], out: Path, grade_args: Sequence[str], say: Callable[[str], None] = print
) -> list[Outcome]:
    out.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for number, (source, name) in enumerate(zip(sources, _names(sources), strict=True), 1):
        target = out / name
        prefix = f"[{number}/{len(sources)}] {name}:"
        if done := _finished(target, source):
            outcomes.append(Outcome(name, source, "resumed", done, 0.0))
            say(f"{prefix} already graded ({done}), kept")
            continue
        started = time.monotonic()
        command = [sys.executable, "-m", "grader", "grade", source, "--out", str(target), *grade_args]
        code, lines = _grade(command)
        seconds = time.monotonic() - started
        finished = _finished(target, source)
        if code == 0 and finished:
            outcomes.append(Outcome(name, source, "graded", finished, seconds))
            say(f"{prefix} {finished} in {seconds:.0f} s")
        else:
            reason = (lines or [f"exit code {code}"])[-1]
            outcomes.append(Outcome(name, source, "failed", reason, seconds))
            say(f"{prefix} FAILED in {seconds:.0f} s: {reason}")
        _save(out, outcomes)
    _save(out, outcomes)
    return outcomes


def _grade(command: list[str]) -> tuple[int, list[str]]:
    """Run one grade: its exit code and output lines. One over time gets SIGTERM, so that it stops all it
    started (as on Ctrl-C), and SIGKILL only if it has not ended `STOP_S` later."""
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    ) as grade:
        try:
            stdout, stderr = grade.communicate(timeout=GRADE_TIMEOUT)
        except subprocess.TimeoutExpired:
            grade.terminate()
            try:
                grade.communicate(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                grade.kill()
                grade.communicate()
            return -1, [f"no result within {GRADE_TIMEOUT:.0f} s"]
    return grade.returncode, (stderr.strip() or stdout.strip()).splitlines()


def _save(out: Path, outcomes: Sequence[Outcome]) -> None:
    state = [vars(o) | {"seconds": round(o.seconds, 1)} for o in outcomes]
    (out / STATE).write_text(json.dumps(state, indent=2) + "\n")
