"""The orders API: `create_app()` wires routers, middleware and error handlers; `lifespan` owns all I/O."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.bulkhead import Bulkhead
from app.config import Settings
from app.deps import Resources
from app.errors import install_error_handlers
from app.metrics import Metrics, MetricsMiddleware
from app.metrics import router as metrics_router
from app.notifications import Notifier
from app.payments import PaymentsClient
from app.routes import customers, health, orders, products
from app.security import VerifiedKeys


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = Settings()  # read here, not at import: importing the app needs no environment
    engine = create_async_engine(
        settings.async_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_s,
        pool_pre_ping=settings.db_pool_pre_ping,
        connect_args={
            "timeout": settings.db_connect_timeout_s,  # asyncpg's connect timeout
            "command_timeout": settings.db_command_timeout_s,
            # Sent in the startup packet: no extra round trip per request.
            "server_settings": {"lock_timeout": str(settings.db_lock_timeout_ms)},
        },
    )
    http = httpx.AsyncClient(
        base_url=settings.payments_url,
        timeout=httpx.Timeout(
            connect=settings.payments_connect_timeout_s,
            read=settings.payments_read_timeout_s,
            write=settings.payments_write_timeout_s,
            pool=settings.payments_pool_timeout_s,
        ),
        limits=httpx.Limits(
            max_connections=settings.payments_max_connections,
            max_keepalive_connections=settings.payments_max_keepalive,
        ),
        trust_env=False,  # PAYMENTS_URL is exact: no proxies or netrc picked up from the environment
    )
    # Reads need no transaction: an autocommit view of the same pool saves the BEGIN and ROLLBACK
    # round trips around every read.
    read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    notifier = Notifier(http, settings)
    notifier.start()
    app.state.resources = Resources(
        settings=settings,
        engine=engine,
        read_engine=read_engine,
        # expire_on_commit=False: objects stay readable after commit without a hidden (async-illegal) reload.
        sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
        read_sessionmaker=async_sessionmaker(read_engine, expire_on_commit=False),
        http=http,
        payments=PaymentsClient(http, settings),
        notifier=notifier,
        hash_limiter=anyio.CapacityLimiter(settings.auth_hash_threads),
        verified_keys=VerifiedKeys(),
        order_slots=Bulkhead(settings.orders_max_concurrency, settings.orders_queue_timeout_s),
    )
    # What exists now lives as long as the process; freezing it keeps the collector's full passes
    # (which would rescan all of it, tens of ms on this app) from stalling requests under load.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        # Uvicorn has finished in-flight requests by now: deliver what they queued, then close.
        await notifier.drain()
        await http.aclose()
        await engine.dispose()


def create_app() -> FastAPI:
    app = FastAPI(title="Orders API", version="1.0.0", lifespan=lifespan)
    app.state.metrics = Metrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    install_error_handlers(app)
    for router in (health.router, products.router, orders.router, customers.router, metrics_router):
        app.include_router(router)
    return app


app = create_app()
