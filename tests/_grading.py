"""Whole grades in tests: each under a private temp directory, checked for leftovers afterwards."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
from _reports import assert_valid_report

from grader.pipeline import Options, run_grade


def leftovers(private_tmp: Path) -> set[str]:
    """What the grade left: files under its private temp directory, processes naming it."""
    found = {f"path {p}" for p in private_tmp.iterdir()}
    for process in psutil.process_iter(["pid", "cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if str(private_tmp) in command:
            found.add(f"process {process.info['pid']}: {command[:120]}")
    return found


@contextlib.contextmanager
def private_tempdir(prefix: str) -> Iterator[Path]:
    """Make every temp directory created meanwhile go under a fresh private one; remove it afterwards.

    Every process a grade starts names one of its temp directories, so what is left under (or naming)
    this one is the grade's, nobody else's. (Not under pytest's own temp directory: a concurrent pytest
    session may prune that one.)
    """
    private_tmp = Path(tempfile.mkdtemp(prefix=prefix))
    saved, tempfile.tempdir = tempfile.tempdir, str(private_tmp)
    try:
        yield private_tmp
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(private_tmp, ignore_errors=True)


def grade_privately(app: Path, out: Path, *, seed: int = 11, name: str = "grade") -> dict[str, Any]:
    """Grade `app` (load skipped) under a private temp directory; assert it left nothing behind."""
    with private_tempdir(f"grade-{name}-") as private_tmp:
        report, written = run_grade(str(app), Options(seed=seed, out=out, skip_load=True), say=lambda _: None)
        assert written == out
        assert leftovers(private_tmp) == set(), "the grade left something behind"
    assert assert_valid_report(out / "report.json") == report
    return report


def import_bare(app_root: Path) -> subprocess.CompletedProcess[str]:
    """`import app.main` from `app_root` with an empty environment: an app must build no resource at import."""
    return subprocess.run(
        [sys.executable, "-c", "import app.main"],
        cwd=app_root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": str(Path(sys.executable).parent), "PYTHONDONTWRITEBYTECODE": "1"},
    )
