"""`python -m tools COMMAND`: what `make db`, `make stub`, `make run`, `make smoke` and `make load` run."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from tools.app import KIT_ROOT, running_app
from tools.checks import run_load, run_smoke
from tools.stack import Stack, database, payments, stack
from tools.submission import write_submission

RUNTIME_DIR = KIT_ROOT / ".kit"  # the app's output during smoke and load runs
FAULTS_EXAMPLE = '{"charges": {"latency_ms": 2000}}'


def _faults(text: str) -> dict[str, Any]:
    try:
        faults = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(faults, dict):
        raise argparse.ArgumentTypeError(f"a JSON object, e.g. {FAULTS_EXAMPLE}")
    return faults


def _add_database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db-latency-ms", type=float, default=0.0, help="delay added to every database round trip")
    parser.add_argument("--pg-url", default=None, help="use this PostgreSQL server instead of an embedded one")


def _add_payments_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--payments", type=_faults, default=None, metavar="JSON",
                        help=f"payments stub faults from the start, e.g. '{FAULTS_EXAMPLE}'")  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    db = commands.add_parser("db", help="PostgreSQL with the seed, until Ctrl-C")
    _add_database_options(db)
    stub = commands.add_parser("stub", help="the payments stub, until Ctrl-C")
    _add_payments_options(stub)
    run = commands.add_parser("run", help="database, payments stub and your app, until Ctrl-C")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--reload", action="store_true", help="restart the app when a file under app/ changes")
    smoke = commands.add_parser("smoke", help="the public smoke tests against a fresh deployment of your app")
    smoke.add_argument("--url", default=None, help="test the app already running there instead")
    smoke.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --)")
    load = commands.add_parser("load", help="a short Locust load test against a fresh deployment of your app")
    load.add_argument("--url", default=None, help="load the app already running there instead")
    load.add_argument("--users", type=int, default=20, help="concurrent simulated users (default 20)")
    load.add_argument("--spawn-rate", type=float, default=None, help="users started per second (default: all at once)")
    load.add_argument("--duration", type=int, default=20, help="seconds of load (default 20)")
    for command in (run, smoke, load):
        _add_database_options(command)
        _add_payments_options(command)
    submission = commands.add_parser("submission", help="pack this directory into submission.tar.gz")
    submission.add_argument("--out", type=Path, default=KIT_ROOT / "submission.tar.gz")
    return parser


def _say(text: str) -> None:
    print(text, flush=True)


def _hold(*alive: Callable[[], bool]) -> int:
    """Wait for Ctrl-C (raised as KeyboardInterrupt), or for one of the processes to die (1)."""
    _say("Ctrl-C stops everything.")
    while all(check() for check in alive):
        time.sleep(0.5)
    _say("a process exited on its own; stopping the rest")
    return 1


def _stack(args: argparse.Namespace) -> contextlib.AbstractContextManager[Stack]:
    return stack(server_url=args.pg_url, db_latency_ms=args.db_latency_ms, faults=args.payments)


def _describe(st: Stack) -> None:
    _say(f"DATABASE_URL={st.database.url}")
    _say(f"PAYMENTS_URL={st.payments.url}")
    _say(f"  payments faults: curl -X PUT {st.payments.service.control_url}/config -d '{FAULTS_EXAMPLE}'")
    _say(f"  database proxy:  curl {st.database.proxy.service.control_url}/stats")


@contextlib.contextmanager
def _deployment(args: argparse.Namespace, log_name: str) -> Iterator[str]:
    """The URL to test: --url, or a fresh deployment of ./app with its own database and stub."""
    if args.url:
        yield args.url.rstrip("/")
        return
    RUNTIME_DIR.mkdir(exist_ok=True)
    log = RUNTIME_DIR / log_name
    _say("starting PostgreSQL, the payments stub and your app ...")
    with _stack(args) as st, running_app(st.env, log=log, access_log=False) as app:
        _say(f"your app is at {app.url}; its output goes to {log.relative_to(KIT_ROOT)}")
        yield app.url


def _command(args: argparse.Namespace) -> int:
    if args.command == "db":
        with database(server_url=args.pg_url, latency_ms=args.db_latency_ms) as db:
            _say(f"DATABASE_URL={db.url}")
            _say(f"  database proxy: curl {db.proxy.service.control_url}/stats")
            return _hold(lambda: db.proxy.service.running)
    if args.command == "stub":
        with payments(args.payments) as stub:
            _say(f"PAYMENTS_URL={stub.url}")
            _say(f"  faults: curl -X PUT {stub.service.control_url}/config -d '{FAULTS_EXAMPLE}'")
            return _hold(lambda: stub.service.running)
    if args.command == "run":
        with _stack(args) as st:
            _describe(st)
            with running_app(st.env, port=args.port, reload=args.reload) as app:
                _say(f"\nyour app: {app.url}   (API docs: {app.url}/docs)")
                return _hold(app.alive, lambda: st.database.proxy.service.running, lambda: st.payments.service.running)
    if args.command == "smoke":
        with _deployment(args, "smoke-app.log") as url:
            return run_smoke(url, args.pytest_args)
    if args.command == "load":
        with _deployment(args, "load-app.log") as url:
            return run_load(url, users=args.users, spawn_rate=args.spawn_rate or args.users, duration=args.duration)
    if args.command == "submission":
        return write_submission(KIT_ROOT, args.out.resolve())
    raise AssertionError(args.command)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwind every context: each process is stopped on the way out


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return _command(args)
    except KeyboardInterrupt:
        _say("\nstopped")
        return 0 if args.command in {"db", "stub", "run"} else 130
    except RuntimeError as exc:  # a service or the app did not start: the message says why
        print(f"error: {exc}", file=sys.stderr)
        return 1
