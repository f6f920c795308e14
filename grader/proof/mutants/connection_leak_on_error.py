"""connection-leak-on-error: a failed order (409, 404, 502) leaves its session open, in its transaction.

Two halves of one mistake: the order's transaction is committed by hand (nothing rolls it back when an
error escapes), and the session dependency closes its session only when the endpoint returns normally,
while keeping every open session referenced (for a shutdown that never comes).
"""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "connection-leak-on-error",
    "no rollback or close when an order fails: the session stays referenced, idle in its transaction",
    (
        Edit(
            "app/orders.py",
            "from __future__ import annotations\n\n",
            "from __future__ import annotations\n\nimport contextlib\n",
        ),
        Edit(
            "app/orders.py",
            "    async with cancellations.on_failure() as charge, session.begin():\n"
            "        customer_id = await _customer_id(",
            "    async with cancellations.on_failure() as charge, contextlib.nullcontext():"
            "  # autobegins; committed below\n"
            "        customer_id = await _customer_id(",
        ),
        Edit(
            "app/orders.py",
            """                detail={"total_cents": total_cents, "payment_id": payment_id, "api_key": api_key.prefix},
            )
        )
""",
            """                detail={"total_cents": total_cents, "payment_id": payment_id, "api_key": api_key.prefix},
            )
        )
        await session.commit()
""",
        ),
        Edit(
            "app/deps.py",
            """async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    # A connection is borrowed on first use and returned when the session closes, on every path.
    async with _resources(request).sessionmaker() as session:
        yield session
""",
            """_open_sessions: set[AsyncSession] = set()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    session = _resources(request).sessionmaker()
    _open_sessions.add(session)
    yield session  # an exception from the endpoint is raised here: the lines below never run
    await session.close()
    _open_sessions.discard(session)
""",
        ),
    ),
    also_present=(
        (
            "last-unit-race",
            "every 409 of the sale leaves its session open: the pool runs dry and the last units' other buyers "
            "get 503s, the race entry's own symptom",
        ),
    ),
)

VARIANTS = (
    Mutant(
        "connection-leak-on-error",
        "a failed payment (502, 504) keeps its session open, in its transaction, for a retry that never comes",
        (
            *MUTANT.edits[:3],  # the order's transaction committed by hand: nothing rolls it back on an error
            Edit(
                "app/deps.py",
                """async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    # A connection is borrowed on first use and returned when the session closes, on every path.
    async with _resources(request).sessionmaker() as session:
        yield session
""",
                """_retry_later: set[AsyncSession] = set()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    session = _resources(request).sessionmaker()
    try:
        yield session
    except (PaymentUnavailable, PaymentTimeout):
        _retry_later.add(session)  # kept, with its transaction, to retry the charge later
        raise
    except BaseException:
        await session.close()
        raise
    await session.close()
""",
            ),
            Edit(
                "app/deps.py",
                "from app.config import Settings\n",
                "from app.config import Settings\nfrom app.errors import PaymentTimeout, PaymentUnavailable\n",
            ),
        ),
        variant="payments",
    ),
)
