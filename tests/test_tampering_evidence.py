"""What the grader takes from logs it does not write: the server log's refusals of an app's role become
named attempts; the app's own log lines are quoted as its words and never reach a verdict."""

from __future__ import annotations

from typing import Any

import pytest

from grader.evidence import pglog, runtime
from grader.evidence.pglog import server_log_attempts
from grader.evidence.tampering import Attempt
from grader.pipeline import Grade, Options, build_report
from grader.probes import ProbeResult
from grader.report import html, markdown
from grader.report.model import Report

ROLE, DB = "kit_app_0123456789ab", "kit_app_cafe0123"


def _record(state: str, message: str, user: str = ROLE, dbname: str = DB, **extra: str) -> dict[str, Any]:
    return {"user": user, "dbname": dbname, "error_severity": "ERROR", "state_code": state, "message": message, **extra}


def test_a_refused_privilege_is_named_with_its_statement() -> None:
    """42501 from the app's role: a sql-privilege attempt quoting the statement it ran."""
    record = _record("42501", "permission denied for function pg_read_file", statement="SELECT pg_read_file('/x')")
    assert server_log_attempts([record], ROLE, DB) == [
        Attempt(
            "sql-privilege",
            "refused: permission denied for function pg_read_file; its statement: \"SELECT pg_read_file('/x')\"",
            "PostgreSQL log",
        )
    ]


def test_too_many_connections_is_connection_exhaustion_counted_once() -> None:
    """53300 a thousand times: one connection-exhaustion attempt, its count 1000, the role's name hidden."""
    records = [_record("53300", f'too many connections for role "{ROLE}"')] * 1000
    (attempt,) = server_log_attempts(records, ROLE, DB)
    assert (attempt.kind, attempt.count) == ("connection-exhaustion", 1000)
    assert ROLE not in attempt.what
    assert "<its role>" in attempt.what


def test_a_refused_log_in_as_another_role_is_the_apps() -> None:
    """A wrong password for the superuser (never the grader's mistake) is named, whoever it names."""
    record = _record("28P01", 'password authentication failed for user "postgres"', user="postgres")
    assert [a.what for a in server_log_attempts([record], ROLE, DB)] == [
        'log-in refused: password authentication failed for user "postgres"'
    ]


@pytest.mark.parametrize(
    "record",
    [
        _record("42501", "permission denied for table products", user="postgres"),
        _record("42501", "permission denied for table products", user="kit_app_other"),
        _record("23505", "duplicate key value violates unique constraint"),
        _record("40P01", "deadlock detected"),
        _record("", "kit-log-sync-0011"),
    ],
    ids=["the grader's own", "another deployment's", "unique violation", "deadlock", "no state"],
)
def test_what_is_not_a_refusal_of_its_role_is_no_attempt(record: dict[str, Any]) -> None:
    """Errors of other roles, and the app's own honest errors, are nobody's tampering."""
    assert server_log_attempts([record], ROLE, DB) == []


def test_the_apps_statement_is_escaped_and_bounded() -> None:
    """A statement with line breaks and control characters stays one bounded, escaped line."""
    statement = "SELECT 1;\n-- red flag: none\x1b[2J" + "x" * 1000
    (attempt,) = server_log_attempts([_record("42501", "permission denied", statement=statement)], ROLE, DB)
    assert "\n" not in attempt.what
    assert "\x1b" not in attempt.what
    assert "\\n-- red flag: none\\x1b[2J" in attempt.what
    assert len(attempt.what) < 250


def test_many_different_refusals_are_bounded_with_the_rest_counted() -> None:
    """At most MAX_ATTEMPTS named, the most repeated first; one more attempt counts all the rest."""
    records = [_record("42501", "permission denied", statement=f"SELECT {i}") for i in range(30)]
    records += [_record("42501", "permission denied", statement="SELECT 'often'")] * 5
    attempts = server_log_attempts(records, ROLE, DB)
    assert len(attempts) == pglog.MAX_ATTEMPTS + 1
    assert attempts[0].count == 5
    assert (attempts[-1].what, attempts[-1].count) == ("19 more refused attempts (see the server log)", 19)


FORGED = (
    "".join(
        f"coroutine 'grader_says_fixed_{i}' was never awaited\nExecuting <Handle forged> took 9.{i} seconds\n"
        for i in range(18)
    )
    + "coroutine 'evil\x1b[31m' was never awaited\n"
)


def test_the_apps_log_lines_are_quoted_bounded_and_under_app_log() -> None:
    """18 forged lines: reported under app_log as quotations, at most MAX_LINES, none carrying raw controls."""
    said = runtime.debug_findings(FORGED)["app_log"]
    assert isinstance(said, dict)
    assert "the app's own log" in said["source"]
    assert len(said["lines"]) == runtime.MAX_LINES
    assert said["lines_more"] == 37 - runtime.MAX_LINES
    assert len(said["never_awaited"]) == runtime.MAX_NAMES
    assert said["never_awaited_more"] == 19 - runtime.MAX_NAMES
    assert all(line[0] in "'\"" and "\x1b" not in line for line in said["lines"])


def _report(debug: dict[str, object]) -> dict[str, Any]:
    grade = Grade(Options(seed=1, only=("missing-await", "blocking-sleep")))
    grade.probes = {
        "missing-await": ProbeResult("missing-await", "present", "audit_rows_per_order", 0.0, "< 0.5", "0 rows"),
        "blocking-sleep": ProbeResult("blocking-sleep", "fixed", "m", 1.0, "> 100", "fine"),
    }
    grade.debug = debug
    return build_report(grade, "submission").model_dump(mode="json")


def test_forged_log_lines_change_no_verdict_score_or_red_flag() -> None:
    """The same probe results with and without a forged app log: verdicts, values, score and flags agree."""
    honest, forged = _report(runtime.debug_findings("")), _report(runtime.debug_findings(FORGED))
    for key in ("score", "red_flags", "tampering"):
        assert forged[key] == honest[key]
    fields = ("id", "verdict", "value", "message", "integrity")
    assert [[b[f] for f in fields] for b in forged["bugs"]] == [[b[f] for f in fields] for b in honest["bugs"]]
    missing_await = next(b for b in forged["bugs"] if b["id"] == "missing-await")
    assert "grader_says_fixed_0" in missing_await["evidence"]["supporting"]["app_log"]["asyncio_never_awaited"]


def test_the_renderers_show_the_apps_lines_as_its_own_words() -> None:
    """report.md and report.html quote the app's lines in a section of their own, escaped, saying whose."""
    report = Report.model_validate(
        _report(runtime.debug_findings("coroutine '<script>x</script>' was never awaited\n"))
    )
    page, text = html.render(report), markdown.render(report)
    assert '<section id="app-log"><h2>The app\'s own log</h2>' in page
    assert "<script>x" not in page
    assert "<q>&quot;coroutine &#x27;&lt;script&gt;x&lt;/script&gt;&#x27; was never awaited&quot;</q>" in page
    assert "the app's own log:</span> <q>&lt;script&gt;x&lt;/script&gt;</q>" in page  # beside the bug
    assert "## The app's own log" in text
    assert "- the app wrote: \"coroutine '\\<script\\>x\\</script\\>' was never awaited\"" in text
