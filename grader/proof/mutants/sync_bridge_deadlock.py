"""sync-bridge-deadlock: the rate fetched by a sync helper that blocks the loop on a future of that loop.

The future cannot complete while the loop is blocked, so every conversion waits the full second, then
falls back to a blocking HTTP call: it still answers, slowly, freezing the service meanwhile.
"""

from ._mutant import Edit, Mutant

_BRIDGE = '''

def _rate_via_bridge(payments: PaymentsClient, currency: str) -> Decimal:
    """A sync helper for the rate: runs the async lookup on the loop and waits for it."""
    future = asyncio.run_coroutine_threadsafe(payments.get_rate(currency), asyncio.get_running_loop())
    try:
        return future.result(timeout=1.0)
    except concurrent.futures.TimeoutError:
        future.cancel()
        response = httpx.get(f"{payments._settings.payments_url}/rates/{currency}", timeout=5.0)
        if response.status_code == 404:
            raise UnknownCurrency(f"unknown currency: {currency}") from None
        response.raise_for_status()
        return Decimal(str(response.json()["rate"]))
'''

MUTANT = Mutant(
    "sync-bridge-deadlock",
    "a sync run_coroutine_threadsafe(...).result(timeout=1.0) bridge for the rate, with a blocking fallback",
    (
        Edit(
            "app/routes/orders.py",
            "from decimal import ROUND_HALF_UP, Decimal\n",
            "import asyncio\nimport concurrent.futures\nfrom decimal import ROUND_HALF_UP, Decimal\n",
        ),
        Edit(
            "app/routes/orders.py",
            "from fastapi import APIRouter, Query, status\n",
            "import httpx\nfrom fastapi import APIRouter, Query, status\n",
        ),
        Edit(
            "app/routes/orders.py",
            "from app.notifications import Notification\n",
            "from app.errors import UnknownCurrency\nfrom app.notifications import Notification\n"
            "from app.payments import PaymentsClient\n",
        ),
        Edit(
            "app/routes/orders.py",
            '_CENT = Decimal("0.01")\n',
            '_CENT = Decimal("0.01")\n' + _BRIDGE,
        ),
        Edit(
            "app/routes/orders.py",
            "else await payments.get_rate(currency)",
            "else _rate_via_bridge(payments, currency)",
        ),
    ),
)

_CACHE = '''

_RATES: dict[str, Decimal] = {}


def _cached_rate(payments: PaymentsClient, currency: str) -> Decimal:
    """Rates move slowly: each currency is fetched once."""
    if currency not in _RATES:
        _RATES[currency] = _rate_via_bridge(payments, currency)
    return _RATES[currency]
'''

VARIANTS = (
    Mutant(
        "sync-bridge-deadlock",
        "the same bridge behind a per-currency cache: only the first conversion of each currency blocks",
        (
            *MUTANT.edits[:3],
            Edit("app/routes/orders.py", '_CENT = Decimal("0.01")\n', '_CENT = Decimal("0.01")\n' + _BRIDGE + _CACHE),
            Edit("app/routes/orders.py", "await payments.get_rate(currency)", "_cached_rate(payments, currency)"),
        ),
        variant="cached",
    ),
)
