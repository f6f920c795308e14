"""blocking-sleep: the charge's retry loop iterated synchronously, so stamina backs off with time.sleep."""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "blocking-sleep",
    "`async for` → `for` over stamina.retry_context: its back-off becomes a blocking time.sleep",
    (
        Edit(
            "app/payments.py",
            "                async for attempt in stamina.retry_context(\n                    on=_is_transient,",
            "                for attempt in stamina.retry_context(\n                    on=_is_transient,",
        ),
    ),
)
