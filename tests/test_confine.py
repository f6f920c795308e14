"""The exec wrapper and the sandbox's plan, each protection tried on a real process (`python -c ...`).

Cheap: no app, no database; each case starts one short Python process through the wrapper, as the grader
starts an app. Those that need a namespace need root, and say so when they skip.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.infra._netns import NetNamespace
from grader.runner import _confine, _sandbox
from grader.runner._sandbox import SCRATCH, Sandbox, _blamed, find_sandbox, fresh_ids, root_plan, runtime_paths

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = [Path(sys.prefix), Path(sys.base_prefix)]
ALL = Sandbox(account=True, network=True, pid=True, mount=True)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="namespaces and accounts need root")


@pytest.fixture
def work() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="kit-confine-test-"))
    (path / "root").mkdir()
    try:
        yield path
    finally:
        subprocess.run(["rm", "-rf", str(path)], check=False)


def _run(box: Sandbox, code: str, work: Path, *, netns: NetNamespace | None = None, **popen: Any) -> Any:
    """`python -c code` started through the wrapper in `box`; its stdout parsed as JSON."""
    ids = box.ids()
    command = box.command(
        sys.executable, ["-c", code], cwd=Path("/"), writable=[work / "home"], readable=RUNTIME, ids=ids,
        root=work / "root", home=work / "home", netns_fd=netns.fd if netns else None,
    )  # fmt: skip
    (work / "home").mkdir(exist_ok=True)
    if ids is not None:
        os.chown(work / "home", *ids)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=30, check=False, pass_fds=[netns.fd] if netns else []
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_failed_step_names_its_protection() -> None:
    """The error of a step says which protection it belongs to, which the trial reads back."""
    error = str(_confine.SandboxStepError("mount", "making / private", "Permission denied"))
    assert error == "sandbox: mount: making / private: Permission denied"
    assert _blamed(error) == "mount"


@pytest.mark.parametrize("error", ["sandbox: account: setuid: EPERM", "PermissionError: [Errno 13]", "sandbox: exec"])
def test_errors_that_name_no_namespace_blame_none(error: str) -> None:
    """The account is never dropped (the app must not run as root), nor is anything dropped for an error
    no step named."""
    assert _blamed(error) is None


def test_limits_are_lowered_and_capped_by_a_lower_hard_limit(work: Path) -> None:
    """Each limit is set as soft and hard value, but never above a hard limit already lower."""
    box = Sandbox(account=False, network=False, pid=False, mount=False)
    code = "import json, resource; print(json.dumps([resource.getrlimit(resource.RLIMIT_NOFILE), "
    code += "resource.getrlimit(resource.RLIMIT_CORE)]))"
    nofile, core = _run(box, code, work)
    assert nofile == [4096, 4096]
    assert core == [0, 0]


def test_the_plan_puts_parents_before_what_lies_inside_them() -> None:
    """A directory is laid out before any mount inside it, so nothing is covered by a later one."""
    copy, home = Path(SCRATCH[0], "kit-sub-x", "submission"), Path(SCRATCH[0], "kit-app-x", "home")
    plan = root_plan([copy, home], RUNTIME, ids=(2_000_000_000,) * 2, home=home)
    paths = [entry["path"] for entry in plan]
    for index, path in enumerate(paths):
        inner = [later for later in paths[:index] if later != path and Path(later).is_relative_to(path)]
        assert inner == [], f"{inner} laid out before {path}"


def test_the_plan_shows_the_copy_writable_the_python_read_only_and_nothing_of_the_kit() -> None:
    """Its copy is bound writable, the Python it runs on read-only; the checkout, /root and /home are
    not in the plan at all (so they do not exist in its view)."""
    copy = Path(SCRATCH[0], "kit-sub-x", "submission")
    plan = root_plan([copy], RUNTIME, ids=None, home=None)
    binds = {entry["path"]: entry["mode"] for entry in plan if entry["op"] == "bind"}
    assert binds[str(copy)] == "rw"
    assert all(binds[str(path.resolve())] == "ro" for path in RUNTIME if str(path.resolve()) in binds)
    for hidden in (ROOT, Path("/root"), Path("/home"), Path("/work")):
        assert str(hidden) not in binds
    assert {entry["path"] for entry in plan if entry["op"] == "tmpfs"} >= set(SCRATCH)


def test_fresh_ids_are_new_each_time_and_belong_to_no_account() -> None:
    """Two apps never share an account, and none is an account of the machine."""
    first, second = fresh_ids(), fresh_ids()
    assert first != second
    assert first[0] >= 1_000_000_000


@needs_root
def test_the_app_sees_only_the_whitelist(work: Path) -> None:
    """In its own root it finds the system directories, its Python and its home; not the checkout's other
    files, not /root's other files, and /proc shows its own processes only."""
    code = (
        "import json, os; print(json.dumps({'root': sorted(os.listdir('/')), 'project': os.listdir("
        + repr(str(ROOT))
        + "), 'pids': [p for p in os.listdir('/proc') if p.isdigit()], 'uid': os.getuid()}))"
    )
    seen = _run(ALL, code, work)
    # The checkout, the app's home and the interpreter may live under any top-level directory (CI's is /check).
    own = {Path(path).resolve().parts[1] for path in (ROOT, work, sys.prefix, sys.base_prefix)}
    assert set(seen["root"]) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "run", "sbin", "tmp",
                                 "usr", "var"} | own  # fmt: skip
    assert set(seen["project"]) <= {".venv"}
    assert seen["pids"] == ["1"]
    assert seen["uid"] >= 1_000_000_000


@needs_root
def test_the_root_is_read_only_and_the_scratch_is_writable(work: Path) -> None:
    """It cannot create files beside the whitelist, only in its scratch directories and its home."""
    scratch, shm = (f"{name}/planted" for name in (SCRATCH[0], SCRATCH[2]))
    code = f"""
import json, os
outcome = {{}}
for path in {["/planted", "/usr/planted", scratch, shm]!r}:
    try:
        open(path, "w").close()
        outcome[path] = "written"
    except OSError as exc:
        outcome[path] = type(exc).__name__
print(json.dumps(outcome))
"""
    seen = _run(ALL, code, work)
    assert seen[scratch] == seen[shm] == "written"
    assert seen["/planted"] != "written"
    assert seen["/usr/planted"] != "written"


@needs_root
def test_a_daemon_dies_with_the_app(work: Path) -> None:
    """A double fork with setsid leaves the app's session and tree, but not its PID namespace: when the
    app ends, so does the daemon."""
    code = """
import json, os, sys, time
readable, writable = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(writable, str(os.getpid()).encode())
        time.sleep(600)
    os._exit(0)
inner = int(os.read(readable, 20))
print(json.dumps({"inner": inner}))
"""
    started = time.monotonic()
    seen = _run(ALL, code, work)
    assert seen["inner"] > 1  # it ran, in the app's namespace
    assert time.monotonic() - started < 20  # the wrapper did not wait for the daemon's sleep
    # nothing of the daemon left on the machine: no process runs the code's sleep
    leftovers = subprocess.run(["pgrep", "-f", "time.sleep\\(600\\)"], capture_output=True, text=True, check=False)
    assert leftovers.stdout.strip() == ""


@needs_root
def test_sigterm_reaches_the_app_and_its_exit_code_comes_back(work: Path) -> None:
    """The parent outside the namespace relays SIGTERM to the app (pid 1 there) and exits as it did."""
    code = "import signal, sys, time\nsignal.signal(signal.SIGTERM, lambda *_: sys.exit(7))\nprint('up', flush=True)\n"
    code += "time.sleep(60)\n"
    command = ALL.command(
        sys.executable, ["-c", code], cwd=Path("/"), writable=[], readable=RUNTIME, ids=ALL.ids(), root=work / "root"
    )
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "up"
            process.send_signal(signal.SIGTERM)
            assert process.wait(20) == 7
        finally:
            process.kill()
            process.wait(5)


@needs_root
def test_in_its_network_namespace_only_what_listens_there_is_reachable(work: Path) -> None:
    """A port made inside the deployment's namespace answers; a port of the grader's does not exist."""
    netns = NetNamespace.create()
    inside = netns.listener()
    outside = socket.create_server(("127.0.0.1", 0))
    try:
        ports = [("inside", inside.getsockname()[1]), ("outside", outside.getsockname()[1])]
        code = f"""
import json, socket
outcome = {{}}
for name, port in {ports!r}:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        outcome[name] = "connected"
    except OSError as exc:
        outcome[name] = type(exc).__name__
print(json.dumps(outcome))
"""
        seen = _run(ALL, code, work, netns=netns)
    finally:
        inside.close()
        outside.close()
        netns.close()
    assert seen == {"inside": "connected", "outside": "ConnectionRefusedError"}


@needs_root
def test_a_step_that_fails_exits_naming_it(work: Path) -> None:
    """A network namespace fd that is not one: the wrapper stops before exec and names the step."""
    with open(os.devnull) as not_a_namespace:
        command = ALL.command(
            sys.executable, ["-c", "print('ran')"], cwd=Path("/"), writable=[], readable=RUNTIME, ids=ALL.ids(),
            root=work / "root", netns_fd=not_a_namespace.fileno(),
        )  # fmt: skip
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=30, check=False, pass_fds=[not_a_namespace.fileno()]
        )
    assert done.returncode != 0
    assert "ran" not in done.stdout
    assert done.stderr.strip().splitlines()[-1].startswith("sandbox: network: setns(CLONE_NEWNET): ")


def test_runtime_paths_follow_a_venvs_link_to_its_base_python() -> None:
    """Both the venv's bin and the directory its python links to are the app's to reach."""
    paths = runtime_paths(sys.executable)
    assert Path(sys.executable).parent in paths
    assert Path(sys.executable).resolve().parent in paths


@needs_root
def test_the_trial_finds_every_namespace_for_a_python_that_only_root_may_reach() -> None:
    """The first grade on a fresh machine: the interpreter lives under a directory only root may enter
    (pyenv under /root, 0700). The trial must start it as the app's account exactly as an app is started,
    so the mount namespace is found, not lost to `PermissionError: [Errno 13]` from exec."""
    private = Path(tempfile.mkdtemp(prefix="kit-private-python-", dir=Path.home()))  # 0700, like /root
    try:
        assert private.stat().st_mode & 0o777 == 0o700
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(private / "venv")], check=True, timeout=60)
        python = str(private / "venv" / "bin" / "python")
        found = find_sandbox(python, [private / "venv", Path(sys.base_prefix)])
        assert found.missing == {}, found.describe()
        assert private.stat().st_mode & 0o777 == 0o700  # and the machine's directory was left as it was
    finally:
        subprocess.run(["rm", "-rf", str(private)], check=False)


class _Trials:
    """Stands in for the trial: answers with the errors given, in turn, then success."""

    def __init__(self, *errors: str) -> None:
        self.errors = list(errors)
        self.tried: list[Sandbox] = []

    def __call__(self, box: Sandbox, python: str, readable: object) -> str:
        self.tried.append(box)
        return self.errors.pop(0) if self.errors else ""


@needs_root
def test_a_trial_that_fails_once_is_retried_and_weakens_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A passing hiccup must not weaken a grade: the same sandbox is tried again, and it holds."""
    trials = _Trials("sandbox: mount: a tmpfs at /x: Cannot allocate memory")
    monkeypatch.setattr(_sandbox, "_trial", trials)
    found = find_sandbox(sys.executable, RUNTIME)
    assert (found.mount, found.missing, found.weakened) == (True, {}, False)
    assert len(trials.tried) == 2


@needs_root
def test_a_step_failing_twice_drops_its_protection_and_names_it_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twice the same failure: that protection goes, the others stay, and the summary says WEAKENED with
    the step that failed."""
    error = "sandbox: pid: unshare(0x20020000): Operation not permitted"
    monkeypatch.setattr(_sandbox, "_trial", _Trials(error, error))
    found = find_sandbox(sys.executable, RUNTIME)
    assert (found.account, found.network, found.pid, found.mount) == (True, True, False, True)
    assert found.missing == {"pid": "unshare(0x20020000): Operation not permitted"}
    assert found.weakened
    assert found.summary().startswith("SANDBOX WEAKENED")
    assert "unshare(0x20020000)" in found.summary()
    assert "pid (unshare(0x20020000): Operation not permitted)" in found.describe()


def test_without_root_every_namespace_is_missing_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not root: the grade still runs, as ourselves, and the sandbox names each protection it lacks."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    found = find_sandbox(sys.executable, RUNTIME)
    assert [found.account, found.network, found.pid, found.mount] == [False] * 4
    assert set(found.missing) == {"account", "network", "pid", "mount"}
    assert not found.weakened  # the machine allows no more: nothing to be loud about
    assert "the grader is not root" in found.summary()


@needs_root
def test_sigterm_ends_an_app_that_has_no_handler_for_it(work: Path) -> None:
    """pid 1 of a namespace ignores signals it has no handler for: an app still importing (no handler
    yet) must end on SIGTERM all the same, as an ordinary process would."""
    code = "import time\nprint('up', flush=True)\ntime.sleep(60)\n"
    command = ALL.command(
        sys.executable, ["-c", code], cwd=Path("/"), writable=[], readable=RUNTIME, ids=ALL.ids(), root=work / "root"
    )
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "up"
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert process.wait(20) == -signal.SIGKILL
            assert time.monotonic() - started < 5
        finally:
            process.kill()
            process.wait(5)
