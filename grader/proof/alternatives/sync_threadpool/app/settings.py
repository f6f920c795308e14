"""Settings from the environment (pydantic-settings), built in the lifespan."""

from __future__ import annotations

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    database_url: str
    payments_url: str
    db_max_connections: int = 20
    db_wait_s: float = 5.0
    payments_timeout_s: float = 2.0
    charge_attempts: int = 3
    charge_budget_s: float = 6.0
    mail_workers: int = 4
    mail_attempts: int = 6
    shutdown_drain_s: float = 8.0
