"""Shared fixtures: one real infrastructure per test session, private copies of both apps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.infra.stack import Infrastructure, infrastructure
from grader.probes import ProbeTarget
from grader.runner.submission import private_copy

ROOT = Path(__file__).resolve().parents[1]
APPS = {"exercise": ROOT / "exercise", "solution": ROOT / "solution"}


@pytest.fixture(scope="session")
def infra() -> Iterator[Infrastructure]:
    with infrastructure() as stack:
        yield stack


@pytest.fixture(scope="session")
def exercise(infra: Infrastructure) -> Iterator[ProbeTarget]:
    with private_copy(APPS["exercise"]) as app_dir:
        yield ProbeTarget(app_dir=app_dir, infra=infra)


@pytest.fixture(scope="session")
def solution(infra: Infrastructure) -> Iterator[ProbeTarget]:
    with private_copy(APPS["solution"]) as app_dir:
        yield ProbeTarget(app_dir=app_dir, infra=infra)
