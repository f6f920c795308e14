"""The grader's command line: clear one-line errors for bad input, a report for every app that ran."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _grading import leftovers, private_tempdir

from grader.cli import _summary
from grader.infra._wait import wait_until
from grader.runner._sandbox import sandbox
from grader.runner.app_process import READY_TIMEOUT


def _grade(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", "grade", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("make_input", "reason"),
    [
        (lambda tmp: tmp / "missing", "no such file or directory"),
        (lambda tmp: tmp, "no app/main.py"),
        (lambda tmp: (tmp / "notes.txt", (tmp / "notes.txt").write_text("hi"))[0], "not a readable tar archive"),
    ],
    ids=["missing-path", "empty-directory", "not-a-tarball"],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path, make_input, reason: str) -> None:  # type: ignore[no-untyped-def]
    """No grade is possible: exit 2, the reason on one line of stderr, no report directory."""
    given = make_input(tmp_path)
    out = tmp_path / "reports"
    done = _grade(str(given), "--out", str(out))
    assert done.returncode == 2
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1, done.stderr
    assert reason in errors[0]
    assert not out.exists()


def test_unknown_flag_and_unknown_bug_id_are_usage_errors(tmp_path: Path) -> None:
    """Typos in the command line are caught before anything starts."""
    assert _grade("exercise", "--quik").returncode == 2
    done = _grade("exercise", "--only", "n-plus-two")
    assert done.returncode == 2
    assert "n-plus-two" in done.stderr


@pytest.mark.slow
def test_an_app_that_cannot_start_still_gets_a_report(tmp_path: Path) -> None:
    """The start-up failure is the report's finding, with the package named; exit 0, score 0."""
    (tmp_path / "sub" / "app").mkdir(parents=True)
    (tmp_path / "sub" / "app" / "__init__.py").write_text("")
    (tmp_path / "sub" / "app" / "main.py").write_text("import aiohttp\n")
    out = tmp_path / "out"
    done = _grade(str(tmp_path / "sub"), "--out", str(out), "--skip-load")
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "graded"
    assert report["score"]["overall"] == 0
    assert "aiohttp" in report["red_flags"][0]["title"]
    assert {bug["verdict"] for bug in report["bugs"]} == {"inconclusive"}
    assert report["submission"]["foreign_imports"][0]["where"] == "app/main.py:1"
    contract_phase = next(p for p in report["phases"] if p["name"] == "contract")
    assert contract_phase["status"] == "error"
    assert contract_phase["seconds"] < READY_TIMEOUT


def test_every_summary_ends_with_the_sandbox_in_force(tmp_path: Path) -> None:
    """Whatever the grade, the summary's last line but one says how far the app was confined."""
    report = {"status": "error", "error": "infrastructure failed", "options": {"only": []}, "bugs": []}
    lines = _summary(report, tmp_path).splitlines()
    assert lines[-2] == sandbox().summary()
    assert lines[-2].startswith(("sandbox: ", "SANDBOX WEAKENED: "))


def test_a_grade_stopped_by_sigterm_stops_all_it_started(tmp_path: Path) -> None:
    """SIGTERM mid-phase (a batch's deadline, a CI job cancelled; Ctrl-C takes the same way): exit 130, and
    the app, the proxy, the stub and PostgreSQL are stopped and their files removed before the grader exits."""
    command = [sys.executable, "-m", "grader", "grade", "exercise", "--skip-load", "--only", "notification-lost"]
    with private_tempdir("grade-stopped-") as private_tmp:
        env = os.environ | {"TMPDIR": str(private_tmp)}
        with subprocess.Popen(
            [*command, "--out", str(tmp_path / "report")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
        ) as grade:
            # mid-probe: the app is up (beside PostgreSQL, the stub and the proxy)
            wait_until(lambda: any("uvicorn" in found for found in leftovers(private_tmp)), timeout=120, what="app")
            grade.send_signal(signal.SIGTERM)
            _, stderr = grade.communicate(timeout=60)
        assert grade.returncode == 130, stderr[-2000:]
        assert b"interrupted" in stderr
        assert leftovers(private_tmp) == set()
