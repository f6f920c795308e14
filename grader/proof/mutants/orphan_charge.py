"""orphan-charge: a failed order's charge is noticed but never cancelled, so the customer stays charged."""

from ._mutant import Edit, Mutant

_CANCEL = "            if charge.sent:\n                self.cancel(charge.key)\n"

MUTANT = Mutant(
    "orphan-charge",
    "an order that fails after its charge was sent is rolled back and logged; the charge is not cancelled",
    (
        Edit(
            "app/payments.py",
            _CANCEL,
            "            if charge.sent:\n"
            '                log.warning("order failed after its charge was sent (key %s)", charge.key)\n',
        ),
    ),
)

VARIANTS = (
    Mutant(
        "orphan-charge",
        "the charge cancelled once, inside the failing request: lost when the provider is down for that too",
        (
            Edit(
                "app/payments.py",
                _CANCEL,
                "            if charge.sent:\n"
                "                with contextlib.suppress(Exception):\n"
                "                    await self._payments.cancel(charge.key)\n",
            ),
        ),
        variant="in-request",
    ),
)
