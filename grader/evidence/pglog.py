"""What the PostgreSQL server log says an app's role tried and was refused: tampering attempts.

The server writes one JSON record per error (`jsonlog`), with the role and database of the session that
caused it. Records are classified by their SQLSTATE, which the server sets, not by their wording:
refused privileges (42501: server files, programs, other databases, roles, DDL on the kit's tables),
connection slots beyond the role's limit (53300), and log-ins as a role that is not its own (28000,
28P01: a password it does not have). The app's words in a record (its statement) are quoted, bounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from grader.evidence.tampering import Attempt, Kind, quoted

SEEN = "PostgreSQL log"
MAX_ATTEMPTS = 12  # distinct attempts named per deployment; the rest are counted in one more
STATEMENT_CHARS = 160
MESSAGE_CHARS = 200
INSUFFICIENT_PRIVILEGE = "42501"
TOO_MANY_CONNECTIONS = "53300"
LOGIN_REFUSED = ("28000", "28P01")  # no such role / wrong password: a log-in as someone else


def _attempt(record: Mapping[str, object], role: str, dbname: str) -> Attempt | None:
    state = str(record.get("state_code") or "")
    user, database = record.get("user"), record.get("dbname")
    message = str(record.get("message") or "")
    message = message.replace(f'"{role}"', "<its role>").replace(f'"{dbname}"', "<its database>")
    message = quoted(message, MESSAGE_CHARS)[1:-1]  # the server's words, bounded; the app's come quoted
    kind: Kind
    if state in LOGIN_REFUSED:
        # the grader never fails to log in, so every refused log-in during the deployment is the app's
        kind, what = "sql-privilege", f"log-in refused: {message}"
    elif user != role:
        return None
    elif state == TOO_MANY_CONNECTIONS:
        kind, what = "connection-exhaustion", f"more connections than its role may hold: {message}"
    elif state == INSUFFICIENT_PRIVILEGE:
        kind, what = "sql-privilege", f"refused: {message}"
        if statement := record.get("statement"):
            what += f"; its statement: {quoted(str(statement), STATEMENT_CHARS)}"
        elif database not in (dbname, None) and f'"{database}"' not in message:
            what += f" (database {quoted(str(database), 64)})"
    else:
        return None
    return Attempt(kind, what, SEEN)


def server_log_attempts(records: Iterable[Mapping[str, object]], role: str, dbname: str) -> list[Attempt]:
    """The attempts of the app whose role is `role` on `dbname`, from the server log of its deployment."""
    counts: dict[Attempt, int] = {}
    for record in records:
        if (attempt := _attempt(record, role, dbname)) is not None:
            counts[attempt] = counts.get(attempt, 0) + 1
    named = sorted(counts.items(), key=lambda item: -item[1])  # the most repeated first
    attempts = [Attempt(a.kind, a.what, a.seen, count) for a, count in named[:MAX_ATTEMPTS]]
    if rest := named[MAX_ATTEMPTS:]:
        more = f"{len(rest)} more refused attempts (see the server log)"
        attempts.append(Attempt("sql-privilege", more, SEEN, sum(count for _, count in rest)))
    return attempts
