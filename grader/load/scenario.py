"""Load scenarios as data: `scenarios/*.toml`, parsed and checked, every error naming its file and field.

A scenario says what traffic to send (a weighted mix of request templates), how (a closed model of
users in stages, or an open model at a fixed arrival rate), for how long, which part is warm-up, and
which faults the database and the payments API carry meanwhile.
"""

from __future__ import annotations

import difflib
import itertools
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.environment import ROOT

SCENARIO_DIR = ROOT / "scenarios"
MODELS = ("closed", "open")
METHODS = ("GET", "POST")
BODIES = ("order",)
# What a path template may draw from; the load generator fills each from the seed's known rows.
PLACEHOLDERS = ("product_id", "order_id", "email", "category", "offset")
MAX_SECONDS = 600
MAX_USERS = 2000
MAX_RATE = 20_000.0
LATE_MS = 25.0  # open model: an arrival sent later than this, with a slot free, means the generator fell behind


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Stage:
    """From `at_s` on (seconds since the start), run `users` concurrent users."""

    at_s: float
    users: int


@dataclass(frozen=True)
class RequestTemplate:
    name: str
    weight: int
    method: str
    path: str
    body: str | None = None
    api_key: bool = False
    expect: tuple[int, ...] = (200,)


@dataclass(frozen=True)
class Faults:
    db_latency_ms: float = 0.0
    payments_latency_ms: float = 0.0
    payments_503_share: float = 0.0
    payments_hang_share: float = 0.0

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


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str
    model: Literal["closed", "open"]
    duration_s: float
    warmup_s: float
    requests: tuple[RequestTemplate, ...]
    faults: Faults = Faults()
    stages: tuple[Stage, ...] = ()  # closed model
    rate: float = 0.0  # open model: arrivals per second, spread over `arrival_users`
    arrival_users: int = 0
    max_in_flight: int = 0  # open model: per arrival user; beyond it arrivals queue, their clock running
    think_s: float = 0.0  # closed model: pause between a user's requests
    reports: tuple[str, ...] = ("latency", "throughput", "errors")
    source: str = field(default="", compare=False)

    @property
    def measured_s(self) -> float:
        return self.duration_s - self.warmup_s

    @property
    def peak_users(self) -> int:
        return max((stage.users for stage in self.stages), default=self.arrival_users)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _every(share: float) -> int:
    return 0 if share <= 0 else max(1, round(1 / share))


_KIND_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false", list: "a list",
               dict: "a table"}  # fmt: skip


class _Fields:
    """Reads one TOML table, naming `where` in every complaint and refusing unknown keys."""

    def __init__(self, table: Any, where: str, file: str) -> None:
        if not isinstance(table, dict):
            raise ScenarioError(f"{file}: {where or 'the file'} must be a table")
        self.table, self.where, self.file, self.used = table, where, file, set[str]()

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(f"{self.file}: {self._name(key)}: {problem}")

    def get(self, key: str, default: Any = ..., *, kind: type | tuple[type, ...] = object) -> Any:
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                near = difflib.get_close_matches(key, [k for k in self.table if isinstance(k, str)], n=1)
                raise self.fail(key, "is required" + (f" (is {near[0]!r} a typo of it?)" if near else ""))
            return default
        value = self.table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            names = "a number" if kinds == (int, float) else " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
            raise self.fail(key, f"must be {names}, not {value!r}")
        return value

    def number(self, key: str, default: Any = ..., *, low: float, high: float) -> float:
        value = self.get(key, default, kind=(int, float))
        if not low <= value <= high:
            raise self.fail(key, f"must be between {low:g} and {high:g}, not {value!r}")
        return float(value)

    def integer(self, key: str, default: Any = ..., *, low: int, high: int) -> int:
        value = self.get(key, default, kind=int)
        if not low <= value <= high:
            raise self.fail(key, f"must be between {low} and {high}, not {value!r}")
        return int(value)

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            near = difflib.get_close_matches(unknown[0], sorted(self.used), n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"known here: {', '.join(sorted(self.used))}"
            raise self.fail(unknown[0], f"unknown field ({hint})")


def _request(table: Any, where: str, file: str) -> RequestTemplate:
    fields = _Fields(table, where, file)
    method = fields.get("method", "GET", kind=str).upper()
    if method not in METHODS:
        raise fields.fail("method", f"must be one of {', '.join(METHODS)}")
    path = fields.get("path", kind=str)
    if not path.startswith("/"):
        raise fields.fail("path", "must start with /")
    for placeholder in re.findall(r"{([^}]*)}", path):
        if placeholder not in PLACEHOLDERS:
            raise fields.fail("path", f"unknown placeholder {{{placeholder}}} (known: {', '.join(PLACEHOLDERS)})")
    body = fields.get("body", None, kind=str)
    if body is not None and body not in BODIES:
        raise fields.fail("body", f"must be one of {', '.join(BODIES)}")
    expect = fields.get("expect", [200], kind=list)
    if not expect or not all(isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in expect):
        raise fields.fail("expect", "must be a non-empty list of HTTP status codes")
    template = RequestTemplate(
        name=fields.get("name", f"{method} {path}", kind=str),
        weight=fields.integer("weight", 1, low=1, high=1000),
        method=method,
        path=path,
        body=body,
        api_key=fields.get("api_key", False, kind=bool),
        expect=tuple(expect),
    )
    fields.done()
    return template


def _faults(table: Any, file: str) -> Faults:
    fields = _Fields(table, "faults", file)
    faults = Faults(
        db_latency_ms=fields.number("db_latency_ms", 0, low=0, high=5000),
        payments_latency_ms=fields.number("payments_latency_ms", 0, low=0, high=30_000),
        payments_503_share=fields.number("payments_503_share", 0, low=0, high=0.5),
        payments_hang_share=fields.number("payments_hang_share", 0, low=0, high=0.5),
    )
    fields.done()
    return faults


def parse_scenario(text: str, file: str) -> Scenario:
    """One scenario from TOML `text`; ScenarioError naming `file` and the field on any problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{file}: not valid TOML: {exc}") from None
    top = _Fields(data, "", file)
    name = top.get("name", kind=str)
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,47}", name):
        raise top.fail("name", "must be lower-case letters, digits and dashes (at most 48)")
    model = top.get("model", kind=str)
    if model not in MODELS:
        raise top.fail("model", f"must be one of {', '.join(MODELS)}, not {model!r}")
    duration = top.number("duration_s", low=1, high=MAX_SECONDS)
    warmup = top.number("warmup_s", 0, low=0, high=MAX_SECONDS)
    if warmup >= duration:
        raise top.fail("warmup_s", f"must be shorter than duration_s ({duration:g})")
    raw_requests = top.get("requests", kind=list)
    if not raw_requests:
        raise top.fail("requests", "needs at least one request")
    requests = tuple(_request(r, f"requests[{i}]", file) for i, r in enumerate(raw_requests))
    names = [r.name for r in requests]
    if len(set(names)) != len(names):
        raise top.fail("requests", "two requests share a name")
    stages: tuple[Stage, ...] = ()
    rate, arrival_users, max_in_flight, think = 0.0, 0, 0, 0.0
    if model == "closed":
        raw_stages = top.get("stages", kind=list)
        stages = tuple(_stage(s, f"stages[{i}]", file) for i, s in enumerate(raw_stages))
        if not stages or stages[0].at_s != 0:
            raise top.fail("stages", "must start with a stage at_s = 0")
        if any(b.at_s <= a.at_s for a, b in itertools.pairwise(stages)):
            raise top.fail("stages", "at_s must increase from one stage to the next")
        if stages[-1].at_s >= duration:
            raise top.fail("stages", f"the last stage must start before duration_s ({duration:g})")
        think = top.number("think_s", 0, low=0, high=60)
    else:
        rate = top.number("rate", low=0.1, high=MAX_RATE)
        arrival_users = top.integer("arrival_users", 1, low=1, high=64)
        max_in_flight = top.integer("max_in_flight", 256, low=1, high=10_000)
    reports = top.get("reports", ["latency", "throughput", "errors"], kind=list)
    if not all(r in {"latency", "throughput", "errors", "timeline"} for r in reports):
        raise top.fail("reports", "may list latency, throughput, errors, timeline")
    scenario = Scenario(
        name=name,
        title=top.get("title", name, kind=str),
        description=top.get("description", kind=str).strip(),
        model=model,
        duration_s=duration,
        warmup_s=warmup,
        requests=requests,
        faults=_faults(top.get("faults", {}, kind=dict), file),
        stages=stages,
        rate=rate,
        arrival_users=arrival_users,
        max_in_flight=max_in_flight,
        think_s=think,
        reports=tuple(reports),
        source=file,
    )
    top.done()
    return scenario


def _stage(table: Any, where: str, file: str) -> Stage:
    fields = _Fields(table, where, file)
    stage = Stage(
        at_s=fields.number("at_s", low=0, high=MAX_SECONDS), users=fields.integer("users", low=1, high=MAX_USERS)
    )
    fields.done()
    return stage


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
