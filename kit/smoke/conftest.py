"""The app under test: `KIT_APP_URL`, set by `make smoke` (which deploys your app fresh for the run)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import pytest


@pytest.fixture(scope="session")
def client() -> Iterator[httpx.Client]:
    url = os.environ.get("KIT_APP_URL")
    if not url:
        pytest.exit("KIT_APP_URL is not set: run the smoke tests with `make smoke`", returncode=2)
    with httpx.Client(base_url=url, timeout=30.0, trust_env=False) as http:
        yield http


@pytest.fixture
def email() -> str:
    """A customer this run has not seen yet."""
    return f"smoke-{uuid.uuid4().hex[:12]}@example.com"
