"""Running helper services as child processes: start-up failures are reported with the child's log."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from grader.infra._service import ControlClient, ServiceError, start_service


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
