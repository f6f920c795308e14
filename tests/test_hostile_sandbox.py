"""Hostile submissions against the sandbox: each is a whole grade (tests/test_hostile.py's helpers: `--only`
one cheap probe, shrunk deadlines, the TELL drop box) asserting that nothing hidden was read, nothing
survived the grade, every fault the grader set stayed in force, and the report names the attempt.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from test_hostile import HEALTHY, DropBox, Graded, dropbox, grade, short_deadlines

from grader.runner import app_process, deploy
from grader.runner._sandbox import sandbox

pytestmark = pytest.mark.slow
__all__ = ["dropbox", "grade", "short_deadlines"]  # the fixtures, used by name

# Reads the app's own network table, as an attacker would, and asks every listening port for the fault
# injectors' control API: GET /config, then PUT /config switching every fault off.
SCAN = """
import http.client


def listening_ports():
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A":
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return sorted(ports)


def ask(port, method, body=None):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
        conn.request(method, "/config", body=body, headers={"content-type": "application/json"})
        return conn.getresponse().status
    except Exception as exc:
        return type(exc).__name__


OFF = '{"charges": {"latency_ms": 0, "fail_first": 0}, "latency_ms": 0, "refuse_new": false}'
ports = listening_ports()
tell(ports=ports, answers={port: [ask(port, "GET"), ask(port, "PUT", OFF)] for port in ports})
"""


def _tampering(graded: Graded) -> list[dict[str, Any]]:
    return list(graded.report["tampering"])


def test_control_ports_found_through_proc_net_tcp_are_out_of_reach_and_named(grade: Any, dropbox: DropBox) -> None:
    """An app that scans /proc/net/tcp and asks every port it finds for GET and PUT /config changes no
    fault: no port answers 200; the report lists the tampering and flags it red."""
    graded = grade(dropbox.app(SCAN) + HEALTHY)
    looks = dropbox.received()
    assert looks, "the app never reported"
    for look in looks:  # one per deployment
        assert look["ports"], "it found no port at all: the scan did not work"
        answers = [answer for pair in look["answers"].values() for answer in pair]
        assert 200 not in answers, look
    tampering = _tampering(graded)
    assert any(a["kind"] == "control-port" and a["seen"] == "payments stub" for a in tampering), tampering
    assert graded.report["red_flags"][0]["id"] == "tampering"
    if sandbox().network:  # only its two URLs were there to find: the stub's and the proxy's data ports
        assert all(len(look["ports"]) == 2 for look in looks), looks
        assert any(a["seen"] == "PostgreSQL proxy" for a in tampering), tampering


# Leaves the app's tree the classic way: fork, setsid, fork again, and the grandchild sleeps on.
DAEMON = """
import os
import time


def daemonize(work):
    if os.fork():
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    try:
        work()
    finally:
        os._exit(0)
"""


def test_a_double_forked_setsid_daemon_dies_with_the_app_and_is_named(grade: Any, dropbox: DropBox) -> None:
    """A daemon (double fork, setsid) that would sleep for an hour: it is gone when the grade ends, and the
    report names the escape."""
    source = (
        DAEMON
        + """
def sleep_on():
    tell(daemon=os.getpid())
    time.sleep(3600)  # {marker}


daemonize(sleep_on)
"""
    )
    graded = grade(dropbox.app(source) + HEALTHY)  # the fixture checks no process naming the case is left
    assert any(look.get("daemon") for look in dropbox.received()), "the daemon never started"
    escapes = [a for a in _tampering(graded) if a["kind"] == "process-escape"]
    assert escapes, graded.report["tampering"]
    assert "setsid" in escapes[0]["what"]


@pytest.fixture
def app_lifetimes(monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """HOME of every app the grade ran -> when the grader had it stopped."""
    ended: dict[str, float] = {}
    started = deploy.run_app

    @contextlib.contextmanager
    def recorded(*args: Any, **kwargs: Any) -> Iterator[app_process.AppProcess]:
        with started(*args, **kwargs) as app:
            home = psutil.Process(app.pid).environ()["HOME"]
            ended[home] = float("inf")  # until it is stopped
            yield app
        ended[home] = time.time()

    monkeypatch.setattr(deploy, "run_app", recorded)
    return ended


def test_a_daemon_waiting_for_the_next_deployment_never_sees_it(
    grade: Any, dropbox: DropBox, app_lifetimes: dict[str, float]
) -> None:
    """A daemon that outlives its request and watches for the next deployment's app (its processes, their
    environment and home): it never sees another app, and never reports after its own app was stopped."""
    source = (
        DAEMON
        + """
def watch():
    home = os.environ["HOME"]
    while True:
        others = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\\0")
            except OSError:
                continue
            theirs = [v.decode()[5:] for v in environ if v.startswith(b"HOME=")]
            if theirs and theirs[0] != home:
                others.append(theirs[0])
        tell(home=home, at=time.time(), others=others, tmp=sorted(os.listdir("/tmp")))
        time.sleep(0.3)  # {marker}


daemonize(watch)
"""
    )
    grade(dropbox.app(source) + HEALTHY)
    looks = dropbox.received()
    homes = {look["home"] for look in looks}
    assert len(homes) >= 2, "each deployment's daemon should have reported (the contract's and the probe's)"
    assert homes <= set(app_lifetimes), (homes, app_lifetimes)
    for look in looks:
        assert look["others"] == [], look
        assert look["at"] <= app_lifetimes[look["home"]], "a daemon reported after its app was stopped"
        if sandbox().mount:
            assert not any(name.startswith("kit-app-") and name not in look["home"] for name in look["tmp"]), look


def test_other_submissions_and_the_graders_command_lines_are_out_of_sight(grade: Any, dropbox: DropBox) -> None:
    """Another candidate's submission stored beside the graded one, and the grader's command lines in
    /proc (pytest, PostgreSQL, the proxy and the stub): the app reads none of them."""
    if not (sandbox().mount and sandbox().pid):
        pytest.skip(f"needs the mount and PID namespaces: {sandbox().describe()}")
    source = """
import os

WORK = "{work}"
found = {}
for path in [WORK, WORK + "/other-candidate/app/main.py", WORK + "/other-candidate"]:
    try:
        found[path] = sorted(os.listdir(path)) if os.path.isdir(path) else open(path).read()
    except OSError as exc:
        found[path] = type(exc).__name__
commands = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        commands.append(open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode())
    except OSError:
        pass
tell(found=found, commands=commands)
"""
    work: Path = grade.work
    other = work / "other-candidate" / "app"
    other.mkdir(parents=True)
    (other / "main.py").write_text("SECRET = 'another candidate's answer'\n")
    graded = grade(dropbox.app(source) + HEALTHY)
    assert graded.report["status"] == "graded"
    looks = dropbox.received()
    assert looks, "the app never reported"
    for look in looks:
        assert set(look["found"].values()) == {"FileNotFoundError"}, look["found"]
        assert look["commands"], "it saw no process at all: the look did not work"
        for command in look["commands"]:
            assert "uvicorn" in command or "-c" in command, command  # its own app, nothing of the grader's
            for word in ("pytest", "postgres", "grader.infra", "_confine"):
                assert word not in command, command
