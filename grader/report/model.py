"""report.json's declared shape: one pydantic model per object, the schema version defined here once.

`Report.model_validate(data)` checks a report (an old one too: every field added later has a default) and
`dump_json` writes one, refusing NaN and infinity (not JSON). Its JSON Schema is published at
grader/report/report.schema.json (`make schema`; a test fails when it is out of date).

To add a field: one line in the model it belongs to, with a default when reports written before it must still
validate (`note: str | None = None`), then `make schema`. Every model forbids unknown fields, so a key the
grade writes but the model does not declare fails the tests at once instead of reaching reports unchecked.
A probe's `evidence` stays a free-form object: what each probe measured is its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCHEMA_VERSION: Literal[1] = 1  # a new version: a new Literal here, and readers that say what they read
SCHEMA_PATH = Path(__file__).with_name("report.schema.json")

Verdict = Literal["fixed", "present", "inconclusive"]


class Shape(BaseModel):
    """Every part of a report: no undeclared key, no NaN or infinity in a declared number."""

    # NaN is kept as NaN on the way out (not silently turned into null) so that dump_json refuses it.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, ser_json_inf_nan="constants")


class Finding(Shape):
    rule: str
    message: str
    where: str


class Submission(Shape):
    name: str
    source: str
    kind: str | None = None  # directory | tarball | git; None when it could not be resolved
    content_hash: str | None = None
    foreign_imports: list[Finding] = []
    static_findings: list[Finding] = []


class Environment(Shape):
    grader_version: str
    kit_commit: str | None = None
    python: str = ""
    packages: dict[str, str | None] = {}
    platform: str = ""
    cpu_model: str = ""
    cores: int | None = None
    seed: int | None = None
    sandbox: str | None = None  # how far the submission was confined on the grading machine


class GradeOptions(Shape):
    quick: bool = False
    skip_load: bool = False
    only: list[str] = []
    workers: int = 1
    reference: str = "auto"
    scenarios: list[str] = []


class Case(Shape):
    name: str
    outcome: Literal["passed", "failed", "error"]
    message: str
    seconds: float
    severity: Literal["critical", "major", "minor"] = "major"
    integrity: bool = False


class Contract(Shape):
    passed: int
    failed: int
    cases: list[Case] = []


class Bug(Shape):
    id: str
    title: str
    category: str
    red_flag: bool
    verdict: Verdict
    metric: str
    value: float | None = None
    threshold: str
    message: str
    evidence: dict[str, Any] = {}  # free-form: what the probe measured
    integrity: list[str] = []  # work the service reported but did not do, one line each


class Category(Shape):
    score: float
    fixed: int
    bugs: int
    # the scorecard's weights (grader/report/score.py); absent in reports written before them
    weight: float | None = None
    points: float | None = None
    earned: float | None = None
    measured: bool = True


class Partial(Shape):
    not_probed: list[str]
    because: str


class Score(Shape):
    overall: float
    uncapped: float | None = None  # the score before the contract's cost (absent in minimal old reports)
    contract_cap: float | None = None  # reports written before the graduated contract cost
    categories: dict[str, Category]
    partial: Partial | None = None
    # The band with its reasons, each entry's points and state, what the contract cost, integrity evidence
    # and the catalogue's scoring version: recomputed by `make compare` from the report's facts, so it is
    # kept as grader/report/score.py writes it rather than declared twice.
    scorecard: dict[str, Any] | None = None


class FlagEvidence(Shape):
    source: str  # probe | contract
    id: str
    evidence: str


class RedFlag(Shape):
    id: str
    title: str
    message: str = ""
    state: str | None = None  # present | unverified (a brief's flag whose entries could not be measured)
    entries: list[str] = []  # the catalogue entries that raised a brief's flag
    brief: str | None = None  # the brief's words for it
    evidence: list[FlagEvidence] = []  # the integrity flag: what the service claimed and did not do
    kinds: list[str] = []  # the tampering flag: the kinds of attempt seen


class Attempt(Shape):
    kind: str
    what: str
    seen: str
    count: int = 1


class Phase(Shape):
    name: str
    status: Literal["ok", "error", "skipped"]
    seconds: float
    error: str | None = None


# ------------------------------------------------------------------------------------------------ load


class Stage(Shape):
    at_s: float
    users: int


class Faults(Shape):
    db_latency_ms: float = 0.0
    payments_latency_ms: float = 0.0
    payments_503_share: float = 0.0
    payments_hang_share: float = 0.0


class Endpoint(Shape):
    """One endpoint's figures (or the whole scenario's, under `all requests`); times in milliseconds."""

    requests: int
    errors: int
    statuses: dict[str, int] = {}
    throughput_rps: float | None = None
    samples: int = 0
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    p999_ms: float | None = None
    max_ms: float | None = None
    mean_ms: float | None = None


class Second(Shape):
    t: int
    requests: int
    errors: int = 0
    statuses: dict[str, int] = {}
    p95_ms: float | None = None


class Generator(Shape):
    processes: int
    cpus: list[int] | None = None
    cpu_percent: list[float] = []
    schedule: dict[str, Any] = {}
    max_dispatch_lag_ms: float = 0.0
    wall_s: float = 0.0
    app_cpus: list[int] | None = None


class Run(Shape):
    """One app's run of a scenario (the candidate's or the reference's)."""

    endpoints: dict[str, Endpoint]
    timeline: list[Second] = []
    spectrum: list[tuple[float, float]] = []  # (percentile, ms), the last at 100: the maximum
    generator: Generator | None = None
    valid: bool
    invalid_reasons: list[str] = []
    integrity: dict[str, Any] | None = None  # the books after the run: breaches and what was counted


class Ratios(Shape):
    """Candidate ÷ reference; None when either side has no figure."""

    throughput: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


class LoadScenario(Shape):
    name: str
    title: str
    description: str = ""
    model: Literal["closed", "open"]
    users: int | None = None
    stages: list[Stage] = []
    rate: float | None = None
    duration_s: float
    warmup_s: float
    faults: Faults = Faults()
    reports: list[str] | None = Field(default=None, exclude=True)  # written before 2026-12, never read
    valid: bool
    invalid_reasons: list[str] = []
    candidate: Run
    reference: Run | None = None
    ratios: dict[str, Ratios] | None = None
    reference_valid: bool | None = None
    integrity_breaches: list[str] = []  # the books read back after the run (grader/load/integrity.py)


class Reference(Shape):
    source: Literal["fresh", "cached", "none"]
    note: str = ""
    created_at: str | None = None
    fingerprint: dict[str, Any] | None = None  # the machine (load.calibration.fingerprint)
    kit_version: dict[str, Any] | None = None  # what moves the reference (load.calibration.kit_version)


class Index(Shape):
    """Geometric means over the valid scenarios of the whole-scenario ratios."""

    throughput: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    scenarios: int = 0


class Pinning(Shape):
    app: list[int]
    generator: list[int]


class Load(Shape):
    status: Literal["ran", "skipped"]
    reason: str | None = None  # skipped: why
    scenario_set: list[str] = []
    workers: int | None = None
    pinning: Pinning | str | None = None  # a string: why nothing was pinned
    reference: Reference | None = None
    index: Index | None = None
    scenarios: list[LoadScenario] = []

    def scenario(self, name: str) -> LoadScenario | None:
        return next((s for s in self.scenarios if s.name == name), None)


class Notes(Shape):
    text: str
    html: str  # rendered with raw HTML, images and links off (grader/guide/_notes.py)
    cut: bool = False


class Claim(Shape):
    claim: str  # a sentence of NOTES.md
    measured: Literal["confirmed", "contradicted", "unverified"]


class GuideBug(Shape):
    id: str
    title: str
    verdict: Verdict
    topic: str
    question: str
    where: list[str] = []  # file:lines of the change, for a fixed bug
    claims: list[Claim] = []


class Failure(Shape):
    case: str  # a contract case, or "probe <bug id>"
    message: str
    app_log: list[str] = []  # the app's own output at that moment, bounded


class Guide(Shape):
    """The reviewer's guide (grader/guide/): what to read and what to ask, tied to the measurements."""

    notes: Notes | None = None
    history: dict[str, Any] | None = None  # git numbers (grader/guide/_history.py)
    history_why: str = ""
    load: str = ""
    bugs: list[GuideBug] = []
    topics: list[str] = []
    failures: list[Failure] = []


class Report(Shape):
    schema_version: Literal[1] = SCHEMA_VERSION
    status: Literal["graded", "error"]
    error: str | None = None
    submission: Submission
    environment: Environment
    started_at: str | None = None
    seconds: float = 0.0
    options: GradeOptions = GradeOptions()
    contract: Contract | None = None
    bugs: list[Bug] = []
    score: Score | None = None  # None when the grade errored
    red_flags: list[RedFlag] = []
    tampering: list[Attempt] = []  # what the app tried that is not its own, once each with its count
    load: Load
    asyncio_debug: dict[str, Any] = {}
    phases: list[Phase] = []
    guide: Guide | None = None  # absent when the submission could not be read


def dump_json(report: Report) -> str:
    """report.json's text; ValueError when a number anywhere (evidence too) is NaN or infinite."""
    # fallback=str: an object a probe put in its evidence is written as its text, as before the model
    return json.dumps(report.model_dump(mode="json", fallback=str), indent=2, allow_nan=False) + "\n"


def schema() -> dict[str, Any]:
    """report.json's JSON Schema, as published in SCHEMA_PATH."""
    document = Report.model_json_schema(mode="validation")  # what a reader accepts: old reports too
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "report.schema.json", **document}


def schema_text() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


def problem(error: ValidationError) -> str:
    """The first validation error on one line: `score.overall is not a number`, `no load`."""
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "the top level"
    kind = first["type"]
    if kind == "missing":
        return f"no {where}"
    if kind == "extra_forbidden":
        return f"{where}: unknown field"
    expected = next((name for prefix, name in _EXPECTED if kind.startswith(prefix)), None)
    if expected:
        return f"{where} is not {expected}"
    return f"{where}: {first['msg']}"


_EXPECTED = (
    ("float", "float"),
    ("int", "int"),
    ("string", "str"),
    ("bool", "bool"),
    ("dict", "an object"),
    ("model", "an object"),
    ("list", "a list"),
    ("tuple", "a list"),
)


if __name__ == "__main__":  # `make schema`: regenerate the published JSON Schema
    SCHEMA_PATH.write_text(schema_text())
    print(SCHEMA_PATH)
