"""Everything a route can depend on, as `Annotated` aliases in one place.

The app's I/O resources are created in the lifespan and kept in one typed `Resources` on `app.state`;
dependencies reach them through the request, so nothing here touches the network at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, cast

import anyio
import httpx
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.bulkhead import Bulkhead
from app.config import Settings
from app.notifications import Notifier
from app.payments import PaymentsClient
from app.security import VerifiedKey, VerifiedKeys, api_key_header, verify_api_key


@dataclass(frozen=True, slots=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    read_engine: AsyncEngine  # the same pool in autocommit: a read costs one round trip, no BEGIN/ROLLBACK
    sessionmaker: async_sessionmaker[AsyncSession]  # transactional: writes
    read_sessionmaker: async_sessionmaker[AsyncSession]  # autocommit ORM reads
    http: httpx.AsyncClient  # the one client for the payments API: shared pool, shared keep-alive
    payments: PaymentsClient
    notifier: Notifier
    hash_limiter: anyio.CapacityLimiter
    verified_keys: VerifiedKeys
    order_slots: Bulkhead


def _resources(request: Request) -> Resources:
    try:
        return cast(Resources, request.app.state.resources)
    except AttributeError:
        raise RuntimeError("the app's resources are missing: its lifespan did not run") from None


# Dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency in its threadpool,
# a thread hop per call for what is an attribute lookup. The database ones, on every request, read
# the app state directly rather than through one more dependency level.
async def get_resources(request: Request) -> Resources:
    return _resources(request)


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    # A connection is borrowed on first use and returned when the session closes, on every path.
    async with _resources(request).sessionmaker() as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with _resources(request).read_sessionmaker() as session:
        yield session


async def get_read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    async with _resources(request).read_engine.connect() as connection:
        yield connection


async def get_settings(resources: ResourcesDep) -> Settings:
    return resources.settings


async def get_payments(resources: ResourcesDep) -> PaymentsClient:
    return resources.payments


async def get_notifier(resources: ResourcesDep) -> Notifier:
    return resources.notifier


async def get_order_slots(resources: ResourcesDep) -> Bulkhead:
    return resources.order_slots


# scope="function": the session closes (its connection back in the pool) as soon as the endpoint
# returns, not after the response has been serialized and sent.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
ReadConnectionDep = Annotated[AsyncConnection, Depends(get_read_connection, scope="function")]  # Core reads
SettingsDep = Annotated[Settings, Depends(get_settings)]
PaymentsDep = Annotated[PaymentsClient, Depends(get_payments)]
NotifierDep = Annotated[Notifier, Depends(get_notifier)]
OrderSlotsDep = Annotated[Bulkhead, Depends(get_order_slots)]


async def get_api_key(
    presented: Annotated[str | None, Depends(api_key_header)], resources: ResourcesDep
) -> VerifiedKey:
    return await verify_api_key(presented, resources.read_engine, resources.hash_limiter, resources.verified_keys)


ApiKeyDep = Annotated[VerifiedKey, Depends(get_api_key)]
