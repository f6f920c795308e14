"""resources-at-import: the catalogue reads get an engine built at import time (released on shutdown).

Only where the engine is built changes: the lifespan still disposes it, so resources-not-released stays
fixed, while an app started without its lifespan still serves product reads.
"""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "resources-at-import",
    "GET /products reads through a module-level engine created when app.deps is imported",
    (
        Edit(
            "app/deps.py",
            "from collections.abc import AsyncIterator\n",
            "import os\nfrom collections.abc import AsyncIterator\n",
        ),
        Edit(
            "app/deps.py",
            "from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker\n",
            "from sqlalchemy.ext.asyncio import (\n"
            "    AsyncConnection,\n    AsyncEngine,\n    AsyncSession,\n    async_sessionmaker,\n"
            "    create_async_engine,\n)\n",
        ),
        Edit(
            "app/deps.py",
            "async def get_read_connection(request: Request) -> AsyncIterator[AsyncConnection]:\n"
            "    async with _resources(request).read_engine.connect() as connection:\n",
            "_URL = Settings(\n"
            "    database_url=os.environ.get(\"DATABASE_URL\", \"postgresql://localhost/shop\"),\n"
            "    payments_url=os.environ.get(\"PAYMENTS_URL\", \"http://localhost\"),\n"
            ").async_database_url\n"
            "IMPORT_ENGINE = create_async_engine(_URL, pool_size=5)\n"
            "_IMPORT_READS = IMPORT_ENGINE.execution_options(isolation_level=\"AUTOCOMMIT\")\n\n\n"
            "async def get_read_connection(request: Request) -> AsyncIterator[AsyncConnection]:\n"
            "    async with _IMPORT_READS.connect() as connection:\n",
        ),
        Edit("app/main.py", "from app.deps import Resources\n", "from app.deps import IMPORT_ENGINE, Resources\n"),
        Edit(
            "app/main.py",
            "        await engine.dispose()\n",
            "        await engine.dispose()\n        await IMPORT_ENGINE.dispose()\n",
        ),
    ),
)
