"""Audit trail for changes to orders."""

from typing import Any

from sqlalchemy.orm import Session

from app.models import AuditLog


async def record_audit(session: Session, order_id: int, action: str, detail: dict[str, Any]) -> None:
    """Add an audit entry to the session; it is written with the session's transaction."""
    session.add(AuditLog(order_id=order_id, action=action, detail=detail))
