"""Liveness."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(tags=["ops"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


_OK = Health()


@router.get("/health")
async def health() -> Health:
    """Liveness: answers from memory, touching neither the database nor the payments API."""
    return _OK
