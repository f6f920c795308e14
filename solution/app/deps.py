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
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.bulkhead import Bulkhead
from app.config import Settings
from app.notifications import Notifier
from app.payments import PaymentsClient
from app.security import VerifiedKey, api_key_header, verify_api_key


@dataclass(frozen=True, slots=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient  # the one client for the payments API: shared pool, shared keep-alive
    payments: PaymentsClient
    notifier: Notifier
    hash_limiter: anyio.CapacityLimiter
    order_slots: Bulkhead


def get_resources(request: Request) -> Resources:
    return cast(Resources, request.app.state.resources)


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    # A connection is borrowed on first use and returned when the session closes, on every path.
    async with resources.sessionmaker() as session:
        yield session


def get_settings(resources: ResourcesDep) -> Settings:
    return resources.settings


def get_payments(resources: ResourcesDep) -> PaymentsClient:
    return resources.payments


def get_notifier(resources: ResourcesDep) -> Notifier:
    return resources.notifier


# scope="function": the session closes (its connection back in the pool) as soon as the endpoint
# returns, not after the response has been serialized and sent.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PaymentsDep = Annotated[PaymentsClient, Depends(get_payments)]
NotifierDep = Annotated[Notifier, Depends(get_notifier)]


async def get_api_key(
    presented: Annotated[str | None, Depends(api_key_header)], session: SessionDep, resources: ResourcesDep
) -> VerifiedKey:
    return await verify_api_key(presented, session, resources.hash_limiter)


ApiKeyDep = Annotated[VerifiedKey, Depends(get_api_key)]
