"""The app's own words at the moment something failed: the tracebacks in its log, bounded."""

from __future__ import annotations

MAX_TRACEBACKS = 2
MAX_LINES = 30
MAX_LINE_CHARS = 300
_START = "Traceback (most recent call last):"


def tracebacks(log: str) -> list[list[str]]:
    """The first few tracebacks in `log`, each up to its exception line, each bounded."""
    found: list[list[str]] = []
    lines = log.splitlines()
    for index, line in enumerate(lines):
        if _START not in line:
            continue
        block = [line[:MAX_LINE_CHARS]]
        for following in lines[index + 1 : index + MAX_LINES]:
            block.append(following[:MAX_LINE_CHARS])
            if following and not following[0].isspace():  # the exception line closes the traceback
                break
        found.append(block)
        if len(found) == MAX_TRACEBACKS:
            break
    return found
