"""Configuration from the environment, read when the app starts."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    database_url: str
    payments_url: str
    pool_min: int = 2
    pool_max: int = 20
    charge_attempts: int = 3
    charge_attempt_timeout_s: float = 2.0
    charge_deadline_s: float = 6.0
    notify_attempts: int = 6
    drain_s: float = 8.0

    @classmethod
    def from_env(cls) -> Config:
        try:
            return cls(os.environ["DATABASE_URL"], os.environ["PAYMENTS_URL"].rstrip("/"))
        except KeyError as missing:
            raise RuntimeError(f"environment variable {missing} is required") from None
