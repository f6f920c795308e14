"""What asyncio's debug mode writes into an app's log: slow callbacks and coroutines never awaited.

The log is the app's own output, and an app may print anything there, lines shaped like these included.
So what is taken from it is the app's word, never the grader's measurement: it is reported under
`app_log` (bounded in count and length, escaped), shown as the app's output, and no verdict reads it.
"""

from __future__ import annotations

import re

from grader.evidence.tampering import quoted

SLOW = re.compile(r"Executing <.*?> took (\d+\.\d+) seconds")
NEVER_AWAITED = re.compile(r"coroutine '([^']{1,200})' was never awaited")
# asyncio debug mode lines support the verdicts on bugs that stall the loop or drop a coroutine.
STALL_BUGS = ("sync-db-driver", "cpu-bound-in-async", "blocking-sleep", "sync-bridge-deadlock")
MAX_NAMES = 10
MAX_LINES = 10
NAME_CHARS = 80
LINE_CHARS = 200
SOURCE = "the app's own log (asyncio debug mode): its output, quoted, not a measurement of the grader's"


def debug_findings(log: str) -> dict[str, object]:
    """What the app's log says, as the app's words: counts, and a few of its lines quoted."""
    slow = [float(seconds) for seconds in SLOW.findall(log)]
    never = sorted(set(NEVER_AWAITED.findall(log)))
    lines = [line for line in log.splitlines() if SLOW.search(line) or NEVER_AWAITED.search(line)]
    return {
        "app_log": {
            "source": SOURCE,
            "slow_callbacks": len(slow),
            "slowest_callback_s": max(slow, default=0.0),
            "never_awaited": [quoted(name, NAME_CHARS)[1:-1] for name in never[:MAX_NAMES]],
            "never_awaited_more": max(0, len(never) - MAX_NAMES),
            "lines": [quoted(line, LINE_CHARS) for line in lines[:MAX_LINES]],
            "lines_more": max(0, len(lines) - MAX_LINES),
        }
    }


def supporting(findings: dict[str, object], bug_id: str) -> dict[str, object]:
    """The app log's words that bear on `bug_id`, under `app_log`: shown beside a verdict, never used by it."""
    said = findings.get("app_log")
    if not isinstance(said, dict):
        return {}
    if bug_id in STALL_BUGS and said.get("slow_callbacks"):
        return {
            "app_log": {
                "asyncio_debug_slow_callbacks": said["slow_callbacks"],
                "slowest_callback_s": said["slowest_callback_s"],
            }
        }
    if bug_id == "missing-await" and said.get("never_awaited"):
        return {"app_log": {"asyncio_never_awaited": said["never_awaited"]}}
    return {}
