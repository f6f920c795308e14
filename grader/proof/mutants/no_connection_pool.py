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
