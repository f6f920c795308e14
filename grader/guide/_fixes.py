"""Where in a submission the work is: its changes against the exercise, by the files each bug lives in."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

MAX_RANGES = 3
_WHERE_FILE = re.compile(r"exercise/(app/[\w/]+\.py)")


def bug_files(where: str) -> list[str]:
    """The files a catalogue entry's `where` names, as paths inside a submission."""
    return list(dict.fromkeys(_WHERE_FILE.findall(where)))


def changed_ranges(before: str, after: str) -> list[tuple[int, int]]:
    """Line ranges (1-based, inclusive) of `after` that differ from `before`, largest first."""
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False)
    changed = [(j1, j2) for tag, _i1, _i2, j1, j2 in matcher.get_opcodes() if tag in ("replace", "insert")]
    ranges = [(j1 + 1, max(j1 + 1, j2)) for j1, j2 in changed]
    return sorted(ranges, key=lambda r: r[0] - r[1])


def locations(where: str, submission: Mapping[str, str], exercise: Mapping[str, str]) -> list[str]:
    """`file:first-last` of the biggest changes in the bug's files; the files it added when those are gone."""
    found = []
    for path in bug_files(where):
        if path in submission:
            ranges = changed_ranges(exercise.get(path, ""), submission[path])[:MAX_RANGES]
            found += [f"{path}:{a}" if a == b else f"{path}:{a}-{b}" for a, b in ranges]
    if not found:
        added = sorted(set(submission) - set(exercise))
        found = [f"{path} (new file)" for path in added[:MAX_RANGES]]
    return found
