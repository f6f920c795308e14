"""Load scenarios as data: `scenarios/*.toml`, parsed and checked, every error naming its file and field.

A scenario says what traffic to send (a weighted mix of request templates), how (a closed model of
users in stages, or an open model at a fixed arrival rate), for how long, which part is warm-up, and
which faults the database and the payments API carry meanwhile.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from grader.declared import Declared, first_problem
from grader.environment import ROOT

SCENARIO_DIR = ROOT / "scenarios"
# What a path template may draw from; the load generator fills each from the seed's known rows.
PLACEHOLDERS = ("product_id", "order_id", "email", "category", "offset")
MAX_SECONDS = 600
MAX_USERS = 2000
MAX_RATE = 20_000.0
LATE_MS = 25.0  # open model: an arrival sent later than this, with a slot free, means the generator fell behind


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the field."""


class Stage(Declared):
    """From `at_s` on (seconds since the start), run `users` concurrent users."""

    at_s: float = Field(ge=0, le=MAX_SECONDS)
    users: int = Field(ge=1, le=MAX_USERS)


class RequestTemplate(Declared):
    name: str  # default: "METHOD /path"
    weight: int = Field(1, ge=1, le=1000)
    method: Literal["GET", "POST"] = "GET"
    path: str
    body: Literal["order"] | None = None
    api_key: bool = False
    expect: tuple[int, ...] = Field((200,), strict=False)

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("method", "GET"), str):
            data = {**data, "method": data.get("method", "GET").upper()}
            data.setdefault("name", f"{data['method']} {data.get('path')}")  # a missing path fails on its own
        return data

    @field_validator("path")
    @classmethod
    def _path(cls, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError("must start with /")
        for placeholder in re.findall(r"{([^}]*)}", path):
            if placeholder not in PLACEHOLDERS:
                raise ValueError(f"unknown placeholder {{{placeholder}}} (known: {', '.join(PLACEHOLDERS)})")
        return path

    @field_validator("expect", mode="before")
    @classmethod
    def _statuses(cls, expect: Any) -> Any:
        statuses = isinstance(expect, list) and all(
            isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in expect
        )
        if not expect or not statuses:
            raise ValueError("must be a non-empty list of HTTP status codes")
        return expect


class Faults(Declared):
    db_latency_ms: float = Field(0.0, ge=0, le=5000)
    payments_latency_ms: float = Field(0.0, ge=0, le=30_000)
    payments_503_share: float = Field(0.0, ge=0, le=0.5)
    payments_hang_share: float = Field(0.0, ge=0, le=0.5)

    def stub_config(self) -> dict[str, Any]:
        """The payments stub's config for these faults (a share becomes "every k-th request")."""
        charges: dict[str, Any] = {"latency_ms": self.payments_latency_ms}
        charges["fail_every"] = _every(self.payments_503_share)
        charges["failure"] = "503"
        charges["hang_every"] = _every(self.payments_hang_share)
        return {
            "charges": charges,
            "rates": {"latency_ms": self.payments_latency_ms},
            "notifications": {"latency_ms": self.payments_latency_ms},
        }


CLOSED_ONLY = ("stages", "think_s")
OPEN_ONLY = ("rate", "arrival_users", "max_in_flight")


class Scenario(Declared):
    """One `scenarios/*.toml` file. Fields of the other model than `model` are refused, not ignored."""

    name: str
    title: str  # default: the name
    description: str
    model: Literal["closed", "open"]
    duration_s: float = Field(ge=1, le=MAX_SECONDS)
    warmup_s: float = Field(0.0, ge=0, le=MAX_SECONDS)
    requests: tuple[RequestTemplate, ...] = Field(strict=False, min_length=1)
    faults: Faults = Faults()
    stages: tuple[Stage, ...] = Field((), strict=False)  # closed model
    rate: float = Field(0.0, ge=0.1, le=MAX_RATE)  # open model: arrivals per second, spread over `arrival_users`
    arrival_users: int = Field(0, ge=1, le=64)
    max_in_flight: int = Field(0, ge=1, le=10_000)  # open model: per arrival user; beyond it arrivals queue
    think_s: float = Field(0.0, ge=0, le=60)  # closed model: pause between a user's requests
    source: str = ""  # the file it came from, as shown in messages (set by the loader, not the file)

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {"title": data.get("name"), **data}
            if isinstance(data.get("description"), str):
                data["description"] = data["description"].strip()
            if data.get("model") == "open":
                data = {"arrival_users": 1, "max_in_flight": 256, **data}
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,47}", name):
            raise ValueError("must be lower-case letters, digits and dashes (at most 48)")
        return name

    @property
    def measured_s(self) -> float:
        return self.duration_s - self.warmup_s

    @property
    def peak_users(self) -> int:
        return max((stage.users for stage in self.stages), default=self.arrival_users)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


def _every(share: float) -> int:
    return 0 if share <= 0 else max(1, round(1 / share))


def parse_scenario(text: str, file: str) -> Scenario:
    """One scenario from TOML `text`; ScenarioError naming `file` and the field on any problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{file}: not valid TOML: {exc}") from None
    model = data.get("model")
    other = OPEN_ONLY if model == "closed" else CLOSED_ONLY if model == "open" else ()
    for key in (*other, "source"):
        if key in data:
            raise ScenarioError(f"{file}: {key}: unknown field (not part of a {model} scenario)")
    if model == "open" and "rate" not in data:
        raise ScenarioError(f"{file}: rate: is required")
    if model == "closed" and "stages" not in data:
        raise ScenarioError(f"{file}: stages: is required")
    try:
        scenario = Scenario.model_validate({**data, "source": file})
    except ValidationError as exc:
        field, problem = first_problem(exc, Scenario)
        raise ScenarioError(f"{file}: {field or 'the file'}: {problem}") from None
    _check_together(scenario, file)
    return scenario


def _check_together(scenario: Scenario, file: str) -> None:
    """The rules between fields, which no one field's declaration can say."""

    def fail(field: str, problem: str) -> ScenarioError:
        return ScenarioError(f"{file}: {field}: {problem}")

    if scenario.warmup_s >= scenario.duration_s:
        raise fail("warmup_s", f"must be shorter than duration_s ({scenario.duration_s:g})")
    names = [r.name for r in scenario.requests]
    if len(set(names)) != len(names):
        raise fail("requests", "two requests share a name")
    if scenario.model == "closed":
        stages = scenario.stages
        if not stages or stages[0].at_s != 0:
            raise fail("stages", "must start with a stage at_s = 0")
        if any(b.at_s <= a.at_s for a, b in itertools.pairwise(stages)):
            raise fail("stages", "at_s must increase from one stage to the next")
        if stages[-1].at_s >= scenario.duration_s:
            raise fail("stages", f"the last stage must start before duration_s ({scenario.duration_s:g})")


def load_scenarios(directory: Path = SCENARIO_DIR, names: tuple[str, ...] = ()) -> list[Scenario]:
    """Every `*.toml` in `directory` (sorted by file name), or only those `names`; ScenarioError if unusable."""
    if not directory.is_dir():
        raise ScenarioError(f"{directory}: no such scenario directory")
    scenarios = []
    for path in sorted(directory.glob("*.toml")):
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"{path}: cannot be read: {exc}") from None
        scenarios.append(parse_scenario(text, _shown(path)))
    seen: dict[str, str] = {}
    for scenario in scenarios:
        if scenario.name in seen:
            raise ScenarioError(f"{scenario.source}: name: {scenario.name!r} is also the name in {seen[scenario.name]}")
        seen[scenario.name] = scenario.source
    if names:
        unknown = [n for n in names if n not in seen]
        if unknown:
            raise ScenarioError(f"no scenario named {unknown[0]!r} in {_shown(directory)} (known: {', '.join(seen)})")
        scenarios = [s for s in scenarios if s.name in names]
    if not scenarios:
        raise ScenarioError(f"{_shown(directory)}: no scenario files (*.toml)")
    return scenarios


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
