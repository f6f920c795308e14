"""Running helper services as child processes: start-up failures are reported with the child's log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from grader.infra._service import ControlClient, ServiceError, start_service
from grader.infra._wait import wait_until


def test_a_child_that_exits_while_starting_is_reported_with_its_log() -> None:
    """A child that dies before it is ready raises ServiceError carrying its exit code and log tail."""
    with (
        pytest.raises(ServiceError, match=r"(?s)exited with 2.*the following arguments are required"),
        start_service("grader.infra.pgproxy", [], name="broken"),
    ):
        pass


SILENT_CHILD = """
import os, pathlib, time
pathlib.Path(os.environ["SILENT_PID_FILE"]).write_text(str(os.getpid()))
print("never ready", flush=True)
time.sleep(60)
"""


def test_a_child_that_never_gets_ready_is_stopped_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child that never writes its ready file is given up on at the deadline, with its log, and stopped."""
    (tmp_path / "silent_child.py").write_text(SILENT_CHILD)
    pid_file = tmp_path / "pid"
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("SILENT_PID_FILE", str(pid_file))
    with (
        pytest.raises(ServiceError, match=r"(?s)not ready after.*never ready"),
        start_service("silent_child", [], name="silent", ready_timeout=2),
    ):
        pass
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_a_control_call_to_a_dead_service_reports_its_log() -> None:
    """When the service died, a control call raises ServiceError saying so, with the log tail."""
    with start_service("grader.infra.payments_stub", [], name="stub") as service:
        control = ControlClient(service, timeout=2.0)
        try:
            os.kill(service.pid, signal.SIGKILL)
            service.process.wait(10)
            with pytest.raises(ServiceError, match=r"(?s)exited with -9.*listening on"):
                control.call("GET", "/health")
        finally:
            control.close()


# A parent that starts a service, writes its pid and waits to be killed.
ORPHANING_PARENTS = {
    "payments stub": "from grader.infra.payments_stub import start_payments_stub as start\nstarted = start()",
    "PostgreSQL proxy": (
        "from grader.infra.pgproxy import start_pgproxy as start\nfrom grader.infra.postgres import Endpoint\n"
        "started = start(Endpoint('127.0.0.1', 9, 'nobody'))"
    ),
}
WAIT_TO_BE_KILLED = """
import pathlib, sys, time
with started as service:
    pathlib.Path(sys.argv[1]).write_text(str(service.pid))
    time.sleep(60)
"""


@pytest.mark.parametrize("name", sorted(ORPHANING_PARENTS))
def test_a_service_whose_parent_is_killed_exits_on_its_own(name: str, tmp_path: Path) -> None:
    """A grader killed with SIGKILL stops nothing: the stub and the proxy notice it is gone and exit."""
    pid_file = tmp_path / "pid"
    script = ORPHANING_PARENTS[name] + WAIT_TO_BE_KILLED
    # its temp directory, which nobody is left to remove, under tmp_path
    env = os.environ | {"TMPDIR": str(tmp_path)}
    with subprocess.Popen([sys.executable, "-c", script, str(pid_file)], env=env) as parent:
        try:
            wait_until(lambda: pid_file.exists() and pid_file.read_text() != "", timeout=30, what=name)
            service = psutil.Process(int(pid_file.read_text()))
        finally:
            parent.kill()
        service.wait(timeout=10)  # psutil.TimeoutExpired if it outlives its parent
