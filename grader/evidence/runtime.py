"""What asyncio's debug mode writes into an app's log: slow callbacks and coroutines never awaited."""

from __future__ import annotations

import re

SLOW = re.compile(r"Executing <.*?> took (\d+\.\d+) seconds")
NEVER_AWAITED = re.compile(r"coroutine '([^']+)' was never awaited")
# asyncio debug mode lines support the verdicts on bugs that stall the loop or drop a coroutine.
STALL_BUGS = ("sync-db-driver", "cpu-bound-in-async", "blocking-sleep", "sync-bridge-deadlock")


def debug_findings(log: str) -> dict[str, object]:
    slow = [float(seconds) for seconds in SLOW.findall(log)]
    never = sorted(set(NEVER_AWAITED.findall(log)))
    return {
        "slow_callbacks": len(slow),
        "slowest_callback_s": max(slow, default=0.0),
        "never_awaited": never,
    }


def supporting(findings: dict[str, object], bug_id: str) -> dict[str, object]:
    if bug_id in STALL_BUGS and findings.get("slow_callbacks"):
        return {
            "asyncio_debug_slow_callbacks": findings["slow_callbacks"],
            "slowest_callback_s": findings["slowest_callback_s"],
        }
    if bug_id == "missing-await" and findings.get("never_awaited"):
        return {"asyncio_never_awaited": findings["never_awaited"]}
    return {}
