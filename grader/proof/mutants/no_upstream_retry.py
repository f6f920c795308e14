"""no-upstream-retry: one attempt per charge; a transient 503 fails the order."""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "no-upstream-retry",
    "stamina with attempts=1",
    (
        Edit(
            "app/payments.py",
            "                    attempts=settings.payments_max_attempts,",
            "                    attempts=1,",
        ),
    ),
)
