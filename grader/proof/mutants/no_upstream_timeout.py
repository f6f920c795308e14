"""no-upstream-timeout: no timeout on the shared payments client and no overall deadline for a charge."""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "no-upstream-timeout",
    "httpx.Timeout(None) on the shared client; asyncio.timeout(None) instead of the charge deadline",
    (
        Edit(
            "app/main.py",
            """        timeout=httpx.Timeout(
            connect=settings.payments_connect_timeout_s,
            read=settings.payments_read_timeout_s,
            write=settings.payments_write_timeout_s,
            pool=settings.payments_pool_timeout_s,
        ),
""",
            "        timeout=httpx.Timeout(None),\n",
        ),
        Edit(
            "app/payments.py",
            "async with asyncio.timeout(settings.payments_deadline_s):",
            "async with asyncio.timeout(None):",
        ),
    ),
)
