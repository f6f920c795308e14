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
            '''async def _driver(connection: AsyncConnection) -> Any:
    """The asyncpg connection under a pooled SQLAlchemy connection (asyncpg caches its prepared statements)."""
    return (await connection.get_raw_connection()).driver_connection
''',
            '''class _Rows:
    """asyncpg's fetch/fetchrow over the sync connection: each call blocks the event loop."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        named = re.sub(r"\\$(\\d+)", r"%(p\\1)s", sql)
        params = {f"p{number}": value for number, value in enumerate(args, start=1)}
        return list(self.connection.exec_driver_sql(named, params).mappings().all())

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None


async def _driver(connection: Any) -> Any:
    return _Rows(connection)
''',
        ),
        Edit(
            "app/routes/products.py",
            "from typing import Annotated, Any\n",
            "import re\nfrom typing import Annotated, Any\n",
        ),
    ),
)

_HISTORY_BEFORE = '''@router.get("/{email}/orders")
async def customer_orders(email: str, session: ReadSessionDep) -> CustomerOrdersPublic:
    return CustomerOrdersPublic(customer_email=email, orders=await load_customer_orders(session, email))
'''

VARIANTS = (
    Mutant(
        "sync-db-driver",
        "every route async except the customer history, which queries a pooled psycopg2 engine directly",
        (
            *MUTANT.edits[:3],  # the pooled sync engine, owned by the lifespan
            Edit(
                "app/routes/customers.py",
                _HISTORY_BEFORE,
                '''@router.get("/{email}/orders")
async def customer_orders(email: str, request: Request) -> CustomerOrdersPublic:
    with Session(request.app.state.sync_engine) as session:
        customer_id = session.scalar(_CUSTOMER_ID, {"email": email})
        if customer_id is None:
            raise NotFound(f"customer {email} not found")
        orders = session.scalars(_CUSTOMER_ORDERS, {"customer_id": customer_id}).all()
        return CustomerOrdersPublic(
            customer_email=email, orders=[OrderPublic.from_order(order, email) for order in orders]
        )
''',
            ),
            Edit(
                "app/routes/customers.py",
                "from fastapi import APIRouter\n",
                "from fastapi import APIRouter, Request\nfrom sqlalchemy.orm import Session\n\n"
                "from app.errors import NotFound\nfrom app.orders import _CUSTOMER_ID, _CUSTOMER_ORDERS\n"
                "from app.schemas import OrderPublic\n",
            ),
        ),
        variant="history",
    ),
)
