"""no-connection-pool: the async engine on NullPool, a new database connection per checkout."""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "no-connection-pool",
    "poolclass=NullPool instead of a sized pool",
    (
        Edit(
            "app/main.py",
            "from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine\n",
            "from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine\n"
            "from sqlalchemy.pool import NullPool\n",
        ),
        Edit(
            "app/main.py",
            """        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_s,
""",
            "        poolclass=NullPool,\n",
        ),
    ),
)

VARIANTS = (
    Mutant(
        "no-connection-pool",
        "the pool everywhere but the customer history, which builds an engine (a new connection) per request",
        (
            Edit(
                "app/routes/customers.py",
                '''@router.get("/{email}/orders")
async def customer_orders(email: str, session: ReadSessionDep) -> CustomerOrdersPublic:
    return CustomerOrdersPublic(customer_email=email, orders=await load_customer_orders(session, email))
''',
                '''@router.get("/{email}/orders")
async def customer_orders(email: str, request: Request) -> CustomerOrdersPublic:
    settings = request.app.state.resources.settings
    engine = create_async_engine(settings.async_database_url, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            return CustomerOrdersPublic(customer_email=email, orders=await load_customer_orders(session, email))
    finally:
        await engine.dispose()
''',
            ),
            Edit(
                "app/routes/customers.py",
                "from fastapi import APIRouter\n",
                "from fastapi import APIRouter, Request\n"
                "from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine\n"
                "from sqlalchemy.pool import NullPool\n",
            ),
            Edit("app/routes/customers.py", "from app.deps import ReadSessionDep\n", ""),
        ),
        variant="history",
    ),
    Mutant(
        "no-connection-pool",
        "a pool of 150 connections, every one opened in the lifespan before the first request",
        (
            Edit("app/config.py", "Field(default=20, ge=1)", "Field(default=150, ge=1)"),
            Edit(
                "app/main.py",
                "    read_engine = engine.execution_options(",
                "    # warm the whole pool now, so no request ever waits for a handshake\n"
                "    warm = []\n"
                "    for _ in range(settings.db_pool_size):\n"
                "        try:\n"
                "            warm.append(await engine.connect())\n"
                "        except Exception:  # noqa: BLE001  # the pool opens it later\n"
                "            pass\n"
                "    for connection in warm:\n"
                "        await connection.close()\n"
                "    read_engine = engine.execution_options(",
            ),
        ),
        variant="all-slots",
    ),
)
