"""Audit trail for changes to orders."""

import asyncio
from typing import Any

from app.db import SessionLocal
from app.models import AuditLog


async def _write(order_id: int, action: str, detail: dict[str, Any]) -> None:
    with SessionLocal() as session:
        session.add(AuditLog(order_id=order_id, action=action, detail=detail))
        session.commit()


def record_audit(order_id: int, action: str, detail: dict[str, Any]) -> None:
    """Write an audit entry in the background, after the order is committed."""
    asyncio.create_task(_write(order_id, action, detail))
