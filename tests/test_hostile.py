"""Broken and hostile submissions: each gets a report naming what happened, within a bounded time, with
nothing left running and the submission byte-identical.

Each case is a whole grade (its own PostgreSQL, stub and app) with `--only` one cheap probe, and with the
grader's deadlines shrunk so that a hang costs seconds, not minutes.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import sysconfig
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil
import pytest
from _reports import assert_valid_report

from grader import pipeline
from grader.infra._netns import NetNamespace
from grader.pipeline import Options, run_grade
from grader.runner import app_process, deploy
from grader.runner._output import CappedLog
from grader.runner._sandbox import sandbox

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]

PROBE = "no-input-validation"  # one deployment, twenty small requests: the cheapest probe
READY = 8.0  # start-up deadline for these apps (the grader's is 30 s)
DEADLINE = 15.0  # contract and probe deadlines (the grader's are 300 s and 120 s)
MEMORY = 256 << 20  # the memory limit for these apps (the grader's is 1.5 GiB): quick and light
BOUND = 150.0  # a whole grade, with huge margins for this noisy machine: the point is that it ends

# A working app's skeleton: GET /health answers, and each case adds its own misbehaviour.
HEALTHY = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
"""


# Prepended to an app that reports what it observed: one JSON datagram per look, to the test's drop box.
TELL = """
import json as _json
import socket as _socket


def tell(**what):
    with _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM) as out:
        out.sendto(_json.dumps(what).encode(), ("127.0.0.1", {dropbox}))
"""


@dataclass
class Graded:
    report: dict[str, Any]
    seconds: float
    out: Path

    def phase(self, name: str) -> dict[str, Any]:
        return next(p for p in self.report["phases"] if p["name"] == name)

    def bug(self, bug_id: str = PROBE) -> dict[str, Any]:
        return next(b for b in self.report["bugs"] if b["id"] == bug_id)


def _tree_hash(root: Path) -> str:
    """Every file's path, mode and bytes: the submission must come back exactly as it was."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(f"{path.relative_to(root).as_posix()}\0{path.lstat().st_mode:o}\0".encode())
        if path.is_file():
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _leftovers(private_tmp: Path, marker: str) -> set[str]:
    """What the grade left: files under its private temp directory, processes naming it or the case."""
    found = {f"path {p}" for p in private_tmp.iterdir()}
    for process in psutil.process_iter(["pid", "cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if str(private_tmp) in command or marker in command:
            found.add(f"process {process.info['pid']}: {command[:120]}")
    return found


def _datagram_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


class DropBox:
    """A UDP socket on loopback to which an app sends what it saw: what the app observed, not what the
    grader says about it. An app in a network namespace of its own sends to the same port there: each
    deployment's namespace gets a socket of the box's on it (`inside`)."""

    def __init__(self) -> None:
        self.socket = _datagram_socket(0)
        self.port = self.socket.getsockname()[1]
        self.sockets = [self.socket]

    def app(self, source: str) -> str:
        """`source` with `tell(**what)` defined, sending here."""
        return TELL.replace("{dropbox}", str(self.port)) + source

    def inside(self, netns: NetNamespace) -> None:
        """Receive from apps in `netns` too."""
        self.sockets.append(netns.call(lambda: _datagram_socket(self.port)))

    def received(self) -> list[dict[str, Any]]:
        """Every look sent so far (loopback datagrams are queued as they are sent)."""
        looks = []
        for sock in self.sockets:
            with contextlib.suppress(BlockingIOError):
                while True:
                    looks.append(json.loads(sock.recv(65536)))
        return looks

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def dropbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[DropBox]:
    box = DropBox()
    made = deploy.network

    @contextlib.contextmanager
    def network() -> Iterator[NetNamespace | None]:
        with made() as netns:
            if netns is not None:
                box.inside(netns)
            yield netns

    monkeypatch.setattr(deploy, "network", network)
    try:
        yield box
    finally:
        box.close()


def _needs_namespace() -> None:
    if not sandbox().mount:
        pytest.skip(f"no private mount namespace for the app here: {sandbox().describe()}")


@pytest.fixture(autouse=True)
def short_deadlines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "CONTRACT_TIMEOUT", DEADLINE)
    monkeypatch.setattr(pipeline, "PROBE_TIMEOUT", DEADLINE)
    monkeypatch.setattr(pipeline, "STOP_WAIT", DEADLINE)
    # run_app's defaults are bound at import: hand deployments a run_app with the short ones
    short = functools.partial(app_process.run_app, ready_timeout=READY, memory_limit=MEMORY)
    monkeypatch.setattr(deploy, "run_app", short)


@pytest.fixture
def grade() -> Iterator[Any]:
    """Grade an app whose app/main.py is `source`; check the grade left nothing and changed nothing.

    In `source`, `{work}` is the directory holding the submission and the report (readable by anyone, as
    a reviewer's would be) and `{marker}` a word naming this case, for any process the app leaves.
    """
    marker = f"hostile-{uuid.uuid4().hex[:12]}"
    work = Path(tempfile.mkdtemp(prefix="hostile-case-"))
    work.chmod(0o755)

    def run(source: str, **extra_files: str) -> Graded:
        submission = work / "submission"
        (submission / "app").mkdir(parents=True)
        (submission / "app" / "__init__.py").write_text("")
        (submission / "app" / "main.py").write_text(source.replace("{marker}", marker).replace("{work}", str(work)))
        for name, text in extra_files.items():
            (submission / "app" / name).write_text(text)
        before = _tree_hash(submission)
        out = work / "report"
        out.mkdir()  # there already, as a reviewer's reports folder may be: the app must not write into it
        # Every temp directory of the grade goes under a private one (not under pytest's own, which a
        # concurrent session may prune): what is left there, or running and naming it, is the grade's.
        private_tmp = Path(tempfile.mkdtemp(prefix="grade-hostile-"))
        saved, tempfile.tempdir = tempfile.tempdir, str(private_tmp)
        started = time.monotonic()
        try:
            report, written = run_grade(
                str(submission), Options(seed=1, out=out, skip_load=True, only=(PROBE,)), say=lambda _: None
            )
            seconds = time.monotonic() - started
            assert written == out
            assert assert_valid_report(out / "report.json") == report
            assert _leftovers(private_tmp, marker) == set(), "the grade left something behind"
        finally:
            tempfile.tempdir = saved
            shutil.rmtree(private_tmp, ignore_errors=True)
        assert _tree_hash(submission) == before, "the submission changed"
        assert seconds < BOUND, f"the grade took {seconds:.0f} s"
        print(f"graded in {seconds:.1f} s", end=" ")
        return Graded(report, seconds, out)

    run.work = work  # type: ignore[attr-defined]  # for a case that stores files beside the submission
    try:
        yield run
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for process in psutil.process_iter(["cmdline"]):  # when the check failed: tidy up after it
            if marker in " ".join(process.info["cmdline"] or []):
                with contextlib.suppress(psutil.Error):
                    process.kill()


def _start_error(graded: Graded) -> str:
    """What the report says about an app that never got going: its red flag and its contract phase."""
    contract = graded.phase("contract")
    assert contract["status"] == "error"
    assert graded.report["score"]["overall"] == 0
    assert graded.report["red_flags"][0]["title"].startswith("the app does not start")
    assert graded.bug()["verdict"] == "inconclusive"
    return str(contract["error"])


def test_syntax_error_is_named(grade: Any) -> None:
    """A submission that does not parse: the report quotes Python's SyntaxError and its line."""
    graded = grade("def broken(:\n    pass\n")
    error = _start_error(graded)
    assert "exited with code" in error
    assert "SyntaxError" in error


def test_import_of_a_missing_package_in_a_module_is_named(grade: Any) -> None:
    """A disallowed package imported by a module of the app (not main.py) is named in the red flag."""
    graded = grade("from app import client\n" + HEALTHY, **{"client.py": "import aiohttp\n"})
    _start_error(graded)
    assert "'aiohttp', which is not in the allowed packages" in graded.report["red_flags"][0]["title"]
    assert graded.report["submission"]["foreign_imports"][0]["where"] == "app/client.py:1"


def test_hang_in_start_up_meets_the_start_deadline(grade: Any) -> None:
    """An import that never returns: the start-up deadline stops it and says so."""
    graded = grade("import time\ntime.sleep(3600)\n" + HEALTHY)
    assert f"not ready after {READY:.0f} s" in _start_error(graded)


def _contract_says(graded: Graded) -> str:
    contract = graded.phase("contract")
    assert contract["status"] == "error" or contract["error"], contract
    return str(contract["error"])


def test_crash_after_some_requests_is_named(grade: Any) -> None:
    """An app that exits on its fifth request: the contract phase says it exited, with its code."""
    graded = grade(
        HEALTHY
        + """
import os

seen = 0


@app.middleware("http")
async def crash_later(request, call_next):
    global seen
    seen += 1
    if seen > 5:
        os._exit(3)
    return await call_next(request)
"""
    )
    assert "the app exited by itself with code 3" in _contract_says(graded)
    assert graded.report["contract"]["failed"] > 0


def test_deadlock_on_the_first_request_meets_the_phase_deadline(grade: Any) -> None:
    """A handler that blocks the event loop forever: each phase's deadline stops the app and says so."""
    graded = grade(
        HEALTHY
        + """
import time


@app.api_route("/{path:path}", methods=["GET", "POST"])
async def stuck(path: str) -> None:
    time.sleep(3600)
"""
    )
    assert f"no result within {DEADLINE:.0f} s; the app was stopped" in _contract_says(graded)
    probe = graded.phase(f"probe {PROBE}")
    assert probe["status"] == "error"
    assert f"no result within {DEADLINE:.0f} s" in probe["error"]
    assert graded.bug()["verdict"] == "inconclusive"


def test_memory_hog_in_a_handler_is_killed_at_the_limit(grade: Any) -> None:
    """A handler that holds more than the memory limit: the app is killed and the report says why."""
    graded = grade(
        HEALTHY
        + """
hoard = []


@app.api_route("/{path:path}", methods=["GET", "POST"])
async def hog(path: str) -> None:
    hoard.append(b"x" * (400 << 20))
"""
    )
    assert "memory limit" in _contract_says(graded)


def test_memory_hog_at_start_up_is_killed_at_the_limit(grade: Any) -> None:
    """An app that takes more than the memory limit before it is ready: the start error says why."""
    graded = grade("import time\nhoard = b'x' * (400 << 20)\ntime.sleep(3600)\n" + HEALTHY)
    assert "memory limit" in _start_error(graded)


def test_children_that_leave_the_session_are_stopped(grade: Any) -> None:
    """A child started in a session of its own (out of the app's process group) dies with the app."""
    graded = grade(
        """
import subprocess
import sys

# `{marker}` names the child, so that the leftover check finds it whatever its session
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", "{marker}"], start_new_session=True)
"""
        + HEALTHY
    )
    assert graded.report["status"] == "graded"


def test_children_orphaned_by_a_crash_are_stopped(grade: Any) -> None:
    """A child in a session of its own, orphaned when the app crashes, is stopped all the same."""
    graded = grade(
        """
import os
import subprocess
import sys

subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", "{marker}"], start_new_session=True)
"""
        + HEALTHY
        + """

@app.get("/products/{product_id}")
async def crash(product_id: int) -> None:
    os._exit(4)
"""
    )
    assert "the app exited by itself with code 4" in _contract_says(graded)


def test_output_flood_is_capped_and_the_grade_completes(grade: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """300 MB on stdout and stderr at start-up: the log keeps its cap, the app still gets graded."""
    logs: list[CappedLog] = []

    class Recorded(CappedLog):
        def __init__(self, pipe: IO[bytes], path: Path, cap: int) -> None:
            super().__init__(pipe, path, cap)
            logs.append(self)

    monkeypatch.setattr(app_process, "CappedLog", Recorded)
    graded = grade(
        """
import os
import sys

block = b"flood " * 10922 + b"\\n"  # 64 KiB
for _ in range(2400):  # 150 MiB to each
    os.write(1, block)
    os.write(2, block)
print("flood over", file=sys.stderr)
"""
        + HEALTHY
    )
    health = next(c for c in graded.report["contract"]["cases"] if c["name"] == "health_answers_ok")
    assert health["outcome"] == "passed"
    assert graded.bug()["value"] is not None  # the probe measured an answer to every body
    assert logs, "no app log was captured"
    for log in logs:  # every deployment: the contract's and the probe's
        assert log.written <= app_process.LOG_CAP
        assert log.written + log.discarded > 300_000_000


def test_writes_outside_its_copy_are_refused(grade: Any, dropbox: DropBox) -> None:
    """An app that writes into the original submission, the reports folders, the grader's files and the
    grader's Python, or renames, re-modes or plants a link in the reports folder, is refused: it runs as an
    account that owns only its copy and its home (so this needs root)."""
    if os.geteuid() != 0:
        pytest.skip("without root the app runs as ourselves, and can write whatever we can")
    planted = ROOT / "grader" / "planted-by-a-submission.txt"
    hook = Path(sysconfig.get_paths()["purelib"]) / "planted-by-a-submission.pth"  # code the grader would run
    default_reports = ROOT / "reports" / "planted-by-a-submission.txt"
    targets = [
        "{work}/submission/app/main.py",
        "{work}/submission/planted.txt",
        "{work}/planted.txt",
        "{work}/report/report.json",
        *map(str, (planted, hook, default_reports)),
    ]
    source = f"""
import os

attempts = {{}}
for target in {targets!r}:
    try:
        with open(target, "a") as file:
            file.write("planted")
        attempts[target] = "written"
    except OSError as exc:
        attempts[target] = type(exc).__name__
for name, attempt in [
    ("symlink", lambda: os.symlink("/etc/passwd", "{{work}}/report/report.md")),
    ("rename", lambda: os.rename("{{work}}/report", "{{work}}/elsewhere")),
    ("chmod", lambda: os.chmod("{{work}}/report", 0o777)),
    ("rmdir", lambda: os.rmdir("{{work}}/report")),
]:
    try:
        attempt()
        attempts[name] = "done"
    except OSError as exc:
        attempts[name] = type(exc).__name__
tell(attempts=attempts)
"""
    try:
        graded = grade(dropbox.app(source) + HEALTHY)
        for path in (planted, hook, default_reports):
            assert not path.exists(), path
    finally:
        for path in (planted, hook, default_reports):
            path.unlink(missing_ok=True)
    looks = dropbox.received()
    assert looks, "the app never reported"
    for look in looks:  # one per deployment
        assert len(look["attempts"]) == len(targets) + 4
        assert {what for what, outcome in look["attempts"].items() if outcome in ("written", "done")} == set()
    work = graded.out.parent
    assert sorted(p.name for p in work.iterdir()) == ["report", "submission"]
    assert sorted(p.name for p in graded.out.iterdir()) == [
        "code",  # the submission's Python files as graded, for similarity across a cohort
        "feedback.html",
        "feedback.md",
        "guide.md",
        "junit.xml",
        "report.html",
        "report.json",
        "report.md",
        "results.json",
    ]
    assert json.loads((graded.out / "report.json").read_text())["schema_version"] == 1
    health = next(c for c in graded.report["contract"]["cases"] if c["name"] == "health_answers_ok")
    assert health["outcome"] == "passed"  # the app ran its writes, then started


def test_the_kits_files_are_out_of_the_apps_sight(grade: Any, dropbox: DropBox) -> None:
    """An app that looks for the reference solution, the bug catalogue, the mutants and the grader, at
    start-up and in a handler, directly, through /proc and from a user namespace of its own, finds none of
    them; its own code it reads (so the looking works)."""
    _needs_namespace()
    secrets = [
        str(path)
        for path in (
            ROOT / "solution" / "app" / "main.py",
            ROOT / "grader" / "catalogue.toml",
            ROOT / "grader" / "proof" / "mutants",
            ROOT / "grader" / "runner",
            ROOT / "README.md",
        )
    ]
    assert all(Path(path).exists() for path in secrets)  # there to be found
    source = f"""
import ctypes
import os

SECRETS = {secrets!r}
PROJECT = {str(ROOT)!r}


def outcome(path):
    try:
        if os.path.isdir(path):
            return "listed " + ",".join(sorted(os.listdir(path)))
        with open(path, "rb") as file:
            file.read(1)
        return "read"
    except OSError as exc:
        return type(exc).__name__


def look():
    # the grader's and init's view of the file system, which the app's namespace does not change
    through_proc = [f"/proc/{{pid}}/root{{SECRETS[0]}}" for pid in (os.getppid(), 1)]
    seen = {{path: outcome(path) for path in [*SECRETS, *through_proc]}}
    return dict(seen=seen, own=outcome(__file__), project=sorted(os.listdir(PROJECT)))


def from_a_user_namespace():
    # a child becomes root of a user namespace of its own and takes the covering mount away
    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(0x10000000 | 0x20000) != 0:
            result = "unshare: " + os.strerror(ctypes.get_errno())
        else:
            libc.umount2(PROJECT.encode(), 2)
            result = outcome(SECRETS[0])
        os.write(writable, result.encode())
        os._exit(0)
    os.close(writable)
    result = os.read(readable, 1000).decode()
    os.waitpid(pid, 0)
    return result


tell(when="start-up", escape=from_a_user_namespace(), **look())
told = []
"""
    handler = """

@app.api_route("/{path:path}", methods=["GET", "POST"])
async def anything(path: str) -> dict[str, str]:
    if not told:
        told.append(path)
        tell(when="handler", **look())
    return {}
"""
    graded = grade(dropbox.app(source) + HEALTHY + handler)
    assert graded.report["status"] == "graded"
    looks = dropbox.received()
    assert {look["when"] for look in looks} == {"start-up", "handler"}, looks
    for look in looks:
        assert look["own"] == "read"
        assert {path: seen for path, seen in look["seen"].items() if not seen.endswith("Error")} == {}
        assert set(look["project"]) <= {".venv"}  # the Python it runs on, nothing else of the kit
    assert all(look["escape"] != "read" for look in looks if look["when"] == "start-up")


def test_scratch_directories_are_private_to_the_app(grade: Any, dropbox: DropBox) -> None:
    """An app may write into /tmp, /var/tmp and /dev/shm, but into private empty ones: what it writes never
    reaches the machine's, and it sees nothing others left there."""
    _needs_namespace()
    scratch = ["/tmp", "/var/tmp", "/dev/shm"]  # noqa: S108 (what the app is given)
    source = f"""
import os

written = {{}}
for directory in {scratch!r}:
    try:
        with open(directory + "/{{marker}}", "w") as file:
            file.write("planted")
        written[directory] = "written"
    except OSError as exc:
        written[directory] = type(exc).__name__
# the private directories its copy and its home lie under (mount points in its /tmp)
mine = [os.getcwd().split("/")[2], os.environ["HOME"].split("/")[2]]
tell(name="{{marker}}", written=written, tmp=sorted(os.listdir("/tmp")), mine=mine)
"""
    looks: list[dict[str, Any]] = []
    try:
        graded = grade(dropbox.app(source) + HEALTHY)
        looks = dropbox.received()
        assert looks, "the app never reported"
        for look in looks:
            assert look["written"] == dict.fromkeys(scratch, "written")
            assert set(look["tmp"]) <= {look["name"], *look["mine"], *_venv_under_tmp()}
            assert graded.out.parent.name not in look["tmp"]
            for directory in scratch:
                assert not Path(directory, look["name"]).exists(), f"the app's file reached {directory}"
    finally:
        for look in looks:
            for directory in scratch:
                Path(directory, look["name"]).unlink(missing_ok=True)


def test_an_app_serving_on_a_port_of_its_own_is_named_and_stopped(grade: Any) -> None:
    """An app that serves on a port it chose instead of the socket it was given: the start error names
    that port, and after the grade nothing listens there."""
    graded = grade(
        """
import http.server


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')


server = http.server.HTTPServer(("127.0.0.1", 0), Health)
print("serving on a port of my own:", server.server_address[1], flush=True)
server.serve_forever()
"""
        + HEALTHY
    )
    error = _start_error(graded)
    assert f"not ready after {READY:.0f} s" in error
    port = re.search(r"it listens on 127\.0\.0\.1:(\d+) instead of the socket it was given", error)
    assert port, error
    assert f"serving on a port of my own: {port[1]}" in error  # the log tail agrees
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", int(port[1])), timeout=5).close()


def test_an_app_that_closes_its_socket_is_named(grade: Any) -> None:
    """An app that closes the socket it was given (and so can never listen): its exit is named."""
    graded = grade("import os, sys\nos.close(int(sys.argv[sys.argv.index('--fd') + 1]))\n" + HEALTHY)
    error = _start_error(graded)
    assert "exited with code" in error
    assert "socket.fromfd" in error  # the log tail shows where uvicorn met the closed socket


def test_health_that_never_answers_ok_meets_the_start_deadline(grade: Any) -> None:
    """An app that serves but whose GET /health always answers 503: the start-up deadline stops it."""
    graded = grade(
        """
from fastapi import FastAPI, Response

app = FastAPI()


@app.get("/health")
async def health() -> Response:
    return Response(status_code=503)
"""
    )
    assert f"not ready after {READY:.0f} s" in _start_error(graded)


def test_hard_coded_answers_fail_the_contract_and_cap_the_score(grade: Any) -> None:
    """An app that answers every request with the same plausible JSON: the randomised contract catches it."""
    graded = grade(
        HEALTHY
        + """
ORDER = {
    "id": 1, "status": "paid", "currency": "USD", "total_cents": 1999, "customer_email": "a@example.org",
    "payment_id": "ch_1", "created_at": "2026-01-01T00:00:00Z", "items": [],
    "sku": "SKU-1", "name": "Thing", "category": "books", "price_cents": 1999, "stock": 10,
    "limit": 20, "offset": 0,
}


@app.api_route("/{path:path}", methods=["GET", "POST"], status_code=201)
async def canned(path: str) -> dict[str, object]:
    return ORDER
"""
    )
    contract = graded.report["contract"]
    failed = {case["name"] for case in contract["cases"] if case["outcome"] != "passed"}
    assert {"product_by_id_matches_database", "order_is_created_paid"} <= failed
    # every failed case costs its share (critical 40 %, major 15 %, minor 4 %): these leave nothing
    assert graded.report["score"]["overall"] <= graded.report["score"]["uncapped"]
    assert graded.report["score"]["scorecard"]["band"] == "no hire signal"
    assert any(flag["title"].endswith("contract cases fail") for flag in graded.report["red_flags"])


def _venv_under_tmp() -> set[str]:
    """The venv's top directory in /tmp when the checkout lies there: the app is shown the venv it runs on."""
    venv, tmp = Path(sys.prefix).resolve(), Path("/tmp").resolve()  # noqa: S108 (the app's view of /tmp)
    return {venv.relative_to(tmp).parts[0]} if venv.is_relative_to(tmp) else set()
