"""Hostile submissions against the database and the evidence: each is a whole grade (as in test_hostile.py:
`--only` one cheap probe, shrunk deadlines) that asserts nothing hidden was read, no verdict changed (the
probe and the contract grade it as they grade the same app without its attempt), and the report names the
attempt among the red flags, first.
"""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_hostile import DEADLINE, HEALTHY, MEMORY, PROBE, READY, DropBox, Graded, dropbox, grade, short_deadlines

from grader import pipeline
from grader.infra.postgres import SERVER_SETTINGS, SUPERUSER_RESERVED
from grader.pipeline import Options, run_grade
from grader.runner import app_process, deploy

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
__all__ = ["dropbox", "grade", "short_deadlines"]  # the fixtures, shared with test_hostile.py

# Prepended to an app that runs SQL as itself, on its own DATABASE_URL (or another database of the server).
SQL = """
import os as _os

import psycopg2 as _psycopg2


def run_sql(sql, dbname=None):
    url = _os.environ["DATABASE_URL"]
    if dbname is not None:
        url = url.rsplit("/", 1)[0] + "/" + dbname
    try:
        conn = _psycopg2.connect(url, connect_timeout=5)
    except Exception as exc:
        return "connect: " + type(exc).__name__ + ": " + str(exc).strip().splitlines()[0][:300]
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
            return "ran: " + repr(cur.fetchall() if cur.description else None)[:200]
    except Exception as exc:
        return type(exc).__name__
    finally:
        conn.close()
"""


@pytest.fixture(scope="module")
def baseline() -> Iterator[Graded]:
    """HEALTHY graded alone, with the same deadlines: what every case must be graded as."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("CONTRACT_TIMEOUT", "PROBE_TIMEOUT", "STOP_WAIT"):  # as test_hostile's short_deadlines
            patch.setattr(pipeline, name, DEADLINE)
        short = functools.partial(app_process.run_app, ready_timeout=READY, memory_limit=MEMORY)
        patch.setattr(deploy, "run_app", short)
        work = Path(tempfile.mkdtemp(prefix="hostile-db-baseline-"))
        try:
            (work / "submission" / "app").mkdir(parents=True)
            (work / "submission" / "app" / "__init__.py").write_text("")
            (work / "submission" / "app" / "main.py").write_text(HEALTHY)
            options = Options(seed=1, out=work / "report", skip_load=True, only=(PROBE,))
            report, out = run_grade(str(work / "submission"), options, say=lambda _: None)
            yield Graded(report, 0.0, out)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _same_verdicts(graded: Graded, baseline: Graded) -> None:
    """The attempt changed nothing the grade decides: the probe's verdict and value, every contract case."""
    assert (graded.bug()["verdict"], graded.bug()["value"]) == (baseline.bug()["verdict"], baseline.bug()["value"])
    cases = [(case["name"], case["outcome"]) for case in graded.report["contract"]["cases"]]
    assert cases == [(case["name"], case["outcome"]) for case in baseline.report["contract"]["cases"]]
    # the same numbers; only the band may differ, since an attempt is a red flag that caps it
    for key in ("overall", "uncapped", "categories"):
        assert graded.report["score"][key] == baseline.report["score"][key]


def _named(graded: Graded, kind: str, *words: str) -> dict[str, Any]:
    """The report's tampering attempt of `kind` whose text has all `words`; the tampering flag comes first."""
    found = [a for a in graded.report["tampering"] if a["kind"] == kind and all(w in a["what"] for w in words)]
    assert found, graded.report["tampering"]
    assert found[0]["seen"] == "PostgreSQL log"
    assert graded.report["red_flags"][0]["id"] == "tampering"
    first: dict[str, Any] = found[0]
    return first


def test_server_files_are_not_read_from_sql(grade: Any, dropbox: DropBox, baseline: Graded) -> None:
    """`pg_read_file` of the catalogue, the reference solution and /proc/self/environ (the server's): each is
    refused, nothing reaches the app, and the report names the attempt."""
    paths = [str(ROOT / "grader" / "catalogue.toml"), str(ROOT / "solution" / "app" / "main.py"), "/proc/self/environ"]
    source = f"""
tell(read={{path: run_sql(f"SELECT pg_read_file('{{path}}')") for path in {paths!r}}})
"""
    graded = grade(dropbox.app(SQL + source) + HEALTHY)
    looks = dropbox.received()
    assert len(looks) == 2  # the contract's deployment and the probe's
    for look in looks:
        assert look["read"] == dict.fromkeys(paths, "InsufficientPrivilege")
    _named(graded, "sql-privilege", "pg_read_file", "catalogue.toml")
    _named(graded, "sql-privilege", "pg_read_file", "/proc/self/environ")
    _same_verdicts(graded, baseline)


@pytest.fixture
def markers() -> Iterator[Path]:
    """A directory anyone may write into (the server's account too): a program the server ran would leave
    its file here."""
    directory = Path(tempfile.mkdtemp(prefix="hostile-db-markers-"))
    directory.chmod(0o777)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_copy_to_a_program_runs_nothing(grade: Any, dropbox: DropBox, markers: Path, baseline: Graded) -> None:
    """`COPY ... TO PROGRAM` and `COPY ... TO` a file are refused: no process ran, no file was written."""
    program, written = markers / "program-ran", markers / "file-written"
    statements = [
        f"COPY (SELECT 1) TO PROGRAM 'touch {program}'",
        f"COPY (SELECT 1) TO '{written}'",
        "COPY products FROM PROGRAM 'id'",
    ]
    source = f"""
tell(copies=[run_sql(sql) for sql in {statements!r}])
"""
    graded = grade(dropbox.app(SQL + source) + HEALTHY)
    looks = dropbox.received()
    assert looks, "the app never reported"
    for look in looks:
        assert look["copies"] == ["InsufficientPrivilege"] * len(statements)
    assert sorted(markers.iterdir()) == []
    _named(graded, "sql-privilege", "external program", str(program))
    _same_verdicts(graded, baseline)


def test_the_template_database_is_out_of_reach(grade: Any, dropbox: DropBox, baseline: Graded) -> None:
    """An app that finds the seeded template (and the server's own databases) and tries to rewrite it is
    refused its connection; the next deployment reads the seed as it was."""
    source = """
templates = [row[0] for row in eval(run_sql(
    "SELECT datname FROM pg_database WHERE datname LIKE 'kit_seed%' OR datname IN ('template1', 'postgres')"
)[5:])]
own = run_sql("SELECT name FROM products WHERE id = 1")
tell(
    own=own,
    templates=templates,
    rewrites={db: run_sql("UPDATE products SET name = 'planted' WHERE id = 1", dbname=db) for db in templates},
    create=run_sql("CREATE DATABASE planted TEMPLATE " + templates[0]),
)
"""
    graded = grade(dropbox.app(SQL + source) + HEALTHY)
    looks = dropbox.received()
    assert len(looks) == 2
    first, later = looks
    assert len(first["templates"]) == 3
    for look in looks:
        assert all(outcome.startswith("connect: OperationalError") for outcome in look["rewrites"].values()), look
        assert "permission denied for database" in next(iter(look["rewrites"].values()))
        assert look["create"] == "InsufficientPrivilege"
    assert "planted" not in later["own"]
    assert later["own"] == first["own"]
    _named(graded, "sql-privilege", "permission denied for database", "kit_seed")
    _named(graded, "sql-privilege", "permission denied to create database")
    _same_verdicts(graded, baseline)


def test_a_2000_connection_pool_is_named_and_the_grade_completes(
    grade: Any, dropbox: DropBox, baseline: Graded
) -> None:
    """An app that opens 2,000 connections at start-up (in the background, so it still serves) gets its
    role's limit and no more; the grader keeps its own slots, the grade completes, and the report names
    connection exhaustion."""
    source = """
import threading

held = []


refused = []
first = threading.Lock()


def hoard():
    for _ in range(100):
        try:
            held.append(_psycopg2.connect(_os.environ["DATABASE_URL"], connect_timeout=5))
        except Exception as exc:
            with first:
                refused.append(exc)
                if len(refused) == 1:
                    tell(held=len(held), first_refusal=str(exc).strip().splitlines()[-1])


# 20 threads of 100 connections each, all at once: a pool of 2,000 opening as fast as the server lets it
for _ in range(20):
    threading.Thread(target=hoard, daemon=True).start()
"""
    graded = grade(dropbox.app(SQL + source) + HEALTHY)
    assert graded.report["status"] == "graded"
    refusals = [look for look in dropbox.received() if "first_refusal" in look]
    assert refusals, "the app was never refused a connection"
    for look in refusals:
        assert "too many connections for role" in look["first_refusal"]
        assert 0 < look["held"] < int(SERVER_SETTINGS["max_connections"]) - SUPERUSER_RESERVED  # its limit
    _named(graded, "connection-exhaustion", "too many connections")
    _same_verdicts(graded, baseline)


def test_a_log_line_forged_as_runtime_evidence_is_quoted_as_the_apps(grade: Any, baseline: Graded) -> None:
    """An app that prints lines shaped like asyncio's debug output: the report quotes a bounded few as the
    app's own log, under app_log, and no verdict changes."""
    source = """
import sys

for i in range(18):
    print(f"coroutine 'grader_verdict_fixed_{i}' was never awaited", file=sys.stderr)
    print(f"Executing <Handle forged_{i}> took 9.{i} seconds\\x1b[2J", file=sys.stderr)
sys.stderr.flush()
"""
    graded = grade(source + HEALTHY)
    debug = graded.report["asyncio_debug"]
    assert set(debug) == {"app_log"}
    said = debug["app_log"]
    assert "the app's own log" in said["source"]
    assert len(said["lines"]) == 10
    assert said["lines_more"] >= 26  # its 36 lines, and any asyncio wrote itself
    assert all("\x1b" not in line and line[0] in "'\"" for line in said["lines"])
    missing_await = graded.bug("missing-await")["evidence"]["supporting"]
    assert set(missing_await) == {"ruff", "app_log"}
    markdown = (graded.out / "report.md").read_text()
    assert "## The app's own log" in markdown
    assert "- the app wrote: " in markdown
    html = (graded.out / "report.html").read_text()
    assert '<section id="app-log">' in html
    assert re.search(r"<q>[^<]*grader_verdict_fixed_0", html)
    assert "\x1b" not in markdown + html
    _same_verdicts(graded, baseline)


def test_the_baseline_app_tries_nothing(baseline: Graded) -> None:
    """HEALTHY alone: no attempt, no tampering flag (so every case's flag is its own attempt's)."""
    assert baseline.report["tampering"] == []
    assert all(flag["id"] != "tampering" for flag in baseline.report["red_flags"])
