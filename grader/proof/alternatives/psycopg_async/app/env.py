"""What the app is configured with; read from the environment at startup."""

from __future__ import annotations

import os

from pydantic import BaseModel


class Env(BaseModel):
    database_url: str
    payments_url: str
    pool_size: int = 16
    pool_wait_s: float = 4.0
    payments_call_timeout_s: float = 2.0
    charge_deadline_s: float = 6.5
    key_cache_ttl_s: float = 60.0
    hash_threads: int = 2

    @classmethod
    def load(cls) -> Env:
        fields = {name: os.environ[name.upper()] for name in cls.model_fields if name.upper() in os.environ}
        return cls.model_validate(fields)
