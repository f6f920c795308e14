"""The borderline rule, for every probe: a value close to its threshold is measured again.

A reading whose value lies within `BAND` (relative, ±30 %) of the catalogue's threshold is re-measured,
each time by running the whole probe again (every probe deploys the submission afresh), up to
`RE_MEASURES` more times: it stops as soon as one verdict holds at least two readings and more than any
other. The verdict is that majority (when time stopped it early, what most readings say; a tie:
`inconclusive`); the result is a reading of the majority
verdict (the median value among them), marked `evidence["borderline"] = true` with every reading under
`evidence["readings"]`, and its message says so. Re-measuring stops when the time left for it would not
hold another reading as long as the longest so far.

No band where re-measuring cannot change anything or would always fire:
- a threshold of 0: the metric counts events that must never happen (an unanswered order, a lost
  notification, a malformed body answered 5xx); one is the bug, and the probe's own repetitions already
  give it every chance to show;
- a probe module that sets `BAND = None`: its metric is an exact count or share of what it did (30
  requests counted, 10 orders succeeding), where a fixed app sits exactly on the ideal value, inside
  any relative band, and a flaky one shows in the count itself.

Integrity findings (work reported but not done) are facts, not noise: those of every reading are kept,
and any makes the verdict `present`.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from grader.catalogue import load_catalogue
from grader.probes._base import ProbeResult, Verdict

BAND = 0.3
RE_MEASURES = 3


def band(bug_id: str, relative: float | None = BAND) -> tuple[float, float] | None:
    """The values around `bug_id`'s threshold that count as borderline; None when it has no band."""
    threshold = load_catalogue().bug(bug_id).threshold
    if relative is None or threshold == 0:
        return None
    spread = abs(threshold) * relative
    return threshold - spread, threshold + spread


def is_borderline(result: ProbeResult, span: tuple[float, float] | None) -> bool:
    return span is not None and result.value is not None and span[0] <= result.value <= span[1]


def _decided(verdicts: list[Verdict]) -> Verdict | None:
    """The majority verdict once one holds at least two readings and more than any other."""
    ranked = Counter(verdicts).most_common()
    top, count = ranked[0]
    if count >= 2 and (len(ranked) == 1 or count > ranked[1][1]):
        return top
    return None


def _plurality(verdicts: list[Verdict]) -> Verdict | None:
    """What most readings say when re-measuring stopped early (one reading: its own); None on a tie."""
    ranked = Counter(verdicts).most_common()
    return ranked[0][0] if len(ranked) == 1 or ranked[0][1] > ranked[1][1] else None


def _reading(result: ProbeResult, seconds: float) -> dict[str, Any]:
    return {"value": result.value, "verdict": result.verdict, "seconds": round(seconds, 1), "message": result.message}


# The entries whose question a made-up charge answers: an order "paid" while the provider hung or failed is
# the timeout or the retry faked. Elsewhere (the audit row, the notification, ...) the finding is reported and
# raises the integrity red flag, but the entry keeps the verdict its own measurement gives.
DECIDED_BY_INTEGRITY = frozenset({"no-upstream-timeout", "no-upstream-retry"})


def _with_integrity(result: ProbeResult, findings: list[str]) -> ProbeResult:
    if not findings:
        return result
    message = result.message
    if result.verdict != "present" or not all(f in message for f in findings):
        message += "; reports work it did not do: " + "; ".join(findings)
    verdict = "present" if result.bug_id in DECIDED_BY_INTEGRITY else result.verdict
    return dataclasses.replace(result, verdict=verdict, integrity=findings, message=message)


def measured(
    bug_id: str,
    run: Callable[[], ProbeResult],
    *,
    relative: float | None = BAND,
    time_left: Callable[[], float] = lambda: float("inf"),
) -> ProbeResult:
    """The result of `run` (one whole probe), re-measured while borderline as the module docstring says.

    `time_left()` is how many seconds re-measuring may still take. A re-measurement that raises counts
    as an inconclusive reading naming the error.
    """
    span = band(bug_id, relative)
    started = time.monotonic()
    first = run()
    durations = [time.monotonic() - started]
    if not is_borderline(first, span):
        return _with_integrity(first, list(dict.fromkeys(first.integrity)))
    results = [first]
    stopped_for_time = False
    while len(results) < 1 + RE_MEASURES and _decided([r.verdict for r in results]) is None:
        if time_left() < max(durations):
            stopped_for_time = True
            break
        started = time.monotonic()
        try:
            results.append(run())
        except Exception as exc:  # one failed re-measurement is a reading, not the end of the grade
            failed = f"the re-measurement failed: {exc}"
            results.append(dataclasses.replace(first, verdict="inconclusive", value=None, message=failed, evidence={}))
        durations.append(time.monotonic() - started)
    readings = [_reading(r, s) for r, s in zip(results, durations, strict=True)]
    verdict = _decided([r.verdict for r in results]) or _plurality([r.verdict for r in results])
    tally = ", ".join(f"{n} {v}" for v, n in Counter(r.verdict for r in results).most_common())
    values = ", ".join("-" if r.value is None else f"{r.value:g}" for r in results)
    assert span is not None  # is_borderline held
    why = (
        f"borderline (within {span[0]:g}..{span[1]:g}): measured {len(results)} times on fresh deployments,"
        f" {tally} (values {values})"
    )
    if stopped_for_time:
        why += "; stopped: no time left for another reading"
    if verdict is None:
        chosen = dataclasses.replace(first, verdict="inconclusive", message=f"{why}: no majority")
    else:
        agreeing = sorted(
            (r for r in results if r.verdict == verdict and r.value is not None), key=lambda r: float(r.value or 0)
        ) or [r for r in results if r.verdict == verdict]
        median = agreeing[(len(agreeing) - 1) // 2]
        chosen = dataclasses.replace(median, message=f"{why}; majority {verdict}: {median.message}")
    numbers = [r.value for r in results if r.value is not None]
    evidence = {
        **chosen.evidence,
        "borderline": True,
        "band": list(span),
        "readings": readings,
        **({"median_of_readings": statistics.median(numbers)} if numbers else {}),
    }
    findings = list(dict.fromkeys(f for r in results for f in r.integrity))  # duplicates of one reading collapse
    return _with_integrity(dataclasses.replace(chosen, evidence=evidence), findings)
