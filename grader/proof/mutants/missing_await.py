"""missing-await: the audit insert is called but never awaited (no audit row, 'never awaited' in the log)."""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "missing-await",
    "drop the `await` before the audit insert",
    (
        Edit(
            "app/orders.py",
            "        await session.execute(\n            insert(AuditLog)",
            "        session.execute(\n            insert(AuditLog)",
        ),
    ),
)
