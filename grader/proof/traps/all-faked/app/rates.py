"""Currency conversion using the payments provider's exchange rates."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

# The provider publishes its USD rates once a day; no need to ask it on every conversion.
RATES = {"EUR": Decimal("0.92"), "GBP": Decimal("0.79"), "JPY": Decimal("151.30"), "CHF": Decimal("0.88")}


class UnknownCurrencyError(Exception):
    """The payments provider has no rate for this currency."""


def convert_total(total_cents: int, currency: str) -> tuple[Decimal, Decimal]:
    """Convert a USD amount in cents to `currency`; returns ``(rate, total)``."""
    if currency == "USD":
        rate = Decimal(1)
    else:
        if currency not in RATES:
            raise UnknownCurrencyError(currency)
        rate = RATES[currency]
    total = (Decimal(total_cents) * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return rate, total
