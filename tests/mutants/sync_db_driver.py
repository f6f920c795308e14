"""sync-db-driver: product reads through a pooled sync (psycopg2) engine, called from async endpoints.

The engine is pooled, owned by the lifespan and disposed on shutdown, so only this bug is put back.
"""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "sync-db-driver",
    "a pooled psycopg2 engine for the product routes, used directly in their `async def` endpoints",
    (
        Edit(
            "app/main.py",
            "from fastapi import FastAPI\n",
            "from fastapi import FastAPI\nfrom sqlalchemy import create_engine, make_url\n",
        ),
        Edit(
            "app/main.py",
            '    read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")\n',
            '    read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")\n'
            "    app.state.sync_engine = create_engine(\n"
            "        make_url(settings.database_url), pool_size=settings.db_pool_size, max_overflow=0\n"
            "    )\n",
        ),
        Edit(
            "app/main.py",
            "        await engine.dispose()\n",
            "        await engine.dispose()\n        app.state.sync_engine.dispose()\n",
        ),
        Edit(
            "app/deps.py",
            """async def get_read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    async with _resources(request).read_engine.connect() as connection:
        yield connection
""",
            """async def get_read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    with request.app.state.sync_engine.connect() as connection:
        yield connection
""",
        ),
        Edit(
            "app/routes/products.py",
            'row = (await connection.execute(_BY_ID, {"product_id": product_id})).one_or_none()',
            'row = connection.execute(_BY_ID, {"product_id": product_id}).one_or_none()',
        ),
        Edit(
            "app/routes/products.py",
            "rows = (await connection.execute(query, params)).all()",
            "rows = connection.execute(query, params).all()",
        ),
    ),
)
