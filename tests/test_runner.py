"""Running a submission: readiness by a real check, clear failures with the log tail, nothing left behind."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import httpx
import pytest

from grader.runner.app_process import AppStartError, run_app
from grader.runner.submission import SubmissionError, private_copy

HEALTHY = """
    import os
    import subprocess
    from fastapi import FastAPI

    app = FastAPI()
    CHILD = subprocess.Popen(["sleep", "300"])  # a child the app never reaps

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/env")
    async def env() -> dict[str, str]:
        return dict(os.environ)

    @app.get("/uid")
    async def uid() -> dict[str, int]:
        return {"uid": os.geteuid()}

    @app.get("/child")
    async def child() -> dict[str, int]:
        return {"pid": CHILD.pid}
"""


def _app(root: Path, source: str) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(textwrap.dedent(source))
    return root


def _gone(pid: int) -> bool:
    """No such process, or only its zombie entry waiting for init to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def test_app_is_ready_with_a_scrubbed_environment_and_its_children_die_with_it(tmp_path: Path) -> None:
    """The app answers once ready, sees only what it needs, and leaves no process behind."""
    os.environ["KIT_SECRET_FOR_TEST"] = "must-not-leak"
    try:
        with run_app(_app(tmp_path, HEALTHY), {"DATABASE_URL": "postgresql://x@127.0.0.1:1/db"}) as app:
            env = httpx.get(f"{app.url}/env", timeout=10).json()
            child = httpx.get(f"{app.url}/child", timeout=10).json()["pid"]
            uid = httpx.get(f"{app.url}/uid", timeout=10).json()["uid"]
            pid = app.pid
    finally:
        del os.environ["KIT_SECRET_FOR_TEST"]
    assert env["DATABASE_URL"] == "postgresql://x@127.0.0.1:1/db"
    assert "KIT_SECRET_FOR_TEST" not in env
    assert uid != 0 or os.geteuid() != 0, "as root, the grader must run the app as an unprivileged account"
    assert _gone(pid)
    assert _gone(child)


def test_import_error_is_reported_with_the_log_tail(tmp_path: Path) -> None:
    """An app that cannot import fails fast, and the error quotes its traceback."""
    root = _app(tmp_path, "import not_a_module_anywhere\n")
    with pytest.raises(AppStartError, match="not_a_module_anywhere"), run_app(root, {}, ready_timeout=20):
        pass


def test_app_that_never_answers_is_stopped_at_the_deadline(tmp_path: Path) -> None:
    """A start-up that hangs ends at the readiness deadline, and the process is gone."""
    root = _app(tmp_path, "import time\ntime.sleep(600)\n")
    with pytest.raises(AppStartError, match="not ready after 2 s"), run_app(root, {}, ready_timeout=2):
        pass


def test_private_copy_leaves_the_original_untouched_and_is_removed(tmp_path: Path) -> None:
    """The grader works on a copy, which disappears afterwards."""
    root = _app(tmp_path / "sub", HEALTHY)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    with private_copy(root) as copy:
        (copy / "app" / "scribble.txt").write_text("x")
        assert copy != root
    assert not copy.exists()
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_a_directory_without_an_app_is_refused(tmp_path: Path) -> None:
    """A submission must hold app/main.py; the error says so."""
    with pytest.raises(SubmissionError, match=r"app/main\.py"), private_copy(tmp_path):
        pass
