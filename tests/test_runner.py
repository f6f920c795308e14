"""Running a submission: readiness by a real check, clear failures with the log tail, nothing left behind."""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap
from pathlib import Path

import httpx
import pytest

from grader.runner._sandbox import sandbox
from grader.runner.app_process import AppStartError, run_app
from grader.runner.submission import SubmissionError, private_copy

ROOT = Path(__file__).resolve().parents[1]
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

    @app.get("/look")
    async def look(path: str) -> dict[str, str]:
        try:
            return {"listed": ",".join(sorted(os.listdir(path))) if os.path.isdir(path) else open(path).read()}
        except OSError as exc:
            return {"error": type(exc).__name__}
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
            httpx.get(f"{app.url}/child", timeout=10).raise_for_status()
            uid = httpx.get(f"{app.url}/uid", timeout=10).json()["uid"]
            # its pids as the grader sees them (in a PID namespace the app's own differ)
            tree = [app.pid, *(process.pid for process in app.note_descendants())]
    finally:
        del os.environ["KIT_SECRET_FOR_TEST"]
    assert env["DATABASE_URL"] == "postgresql://x@127.0.0.1:1/db"
    assert "KIT_SECRET_FOR_TEST" not in env
    assert uid != 0 or os.geteuid() != 0, "as root, the grader must run the app as an unprivileged account"
    assert len(tree) >= 2  # the app and the child it never reaps
    assert [pid for pid in tree if not _gone(pid)] == []


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


def test_the_app_sees_its_copy_but_not_the_kit_nor_the_machines_tmp(tmp_path: Path) -> None:
    """In its namespace the app reads its own code, finds the reference solution absent and a /tmp holding
    only the way to its own directories."""
    if not sandbox().mount:
        pytest.skip(f"no private mount namespace for the app here: {sandbox().describe()}")
    with run_app(_app(tmp_path, HEALTHY), {}) as app:

        def look(path: Path | str) -> dict[str, str]:
            answer: dict[str, str] = httpx.get(f"{app.url}/look", params={"path": str(path)}, timeout=10).json()
            return answer

        own = look(tmp_path / "app" / "main.py")
        solution = look(ROOT / "solution" / "app" / "main.py")
        scratch = look(tempfile.gettempdir())
    assert "FastAPI()" in own.get("listed", "")
    assert solution == {"error": "FileNotFoundError"}
    # its copy's and its home's parents, and the venv's when the checkout itself lies in /tmp: nothing else
    venv_under_tmp = _under(Path(sys.prefix), Path(tempfile.gettempdir()))
    assert len(set(scratch["listed"].split(",")) - venv_under_tmp) <= 2, scratch


def _under(path: Path, directory: Path) -> set[str]:
    """The name of `path`'s top directory inside `directory`, if it lies there (mounted into the app's view)."""
    resolved, inside = path.resolve(), directory.resolve()
    return {resolved.relative_to(inside).parts[0]} if resolved.is_relative_to(inside) and resolved != inside else set()
