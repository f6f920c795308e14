"""no-upstream-retry: a transient 503 fails the order; only transport errors are retried (the exercise's shape).

Resets are still retried, so the blocking-sleep probe keeps seeing a back-off to judge.
"""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "no-upstream-retry",
    "the retry loop retries transport errors only: a 503 is final",
    (
        Edit(
            "app/payments.py",
            "    return isinstance(exc, httpx.TransportError | _TransientStatus)",
            "    return isinstance(exc, httpx.TransportError)",
        ),
    ),
)
