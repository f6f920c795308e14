"""The kit's requirements files, made from pyproject.toml so that the pins exist once.

`requirements.txt` is what the grader's environment gives a submission: the packages under the
"# the apps" comment of `dependencies`, the allowed dependencies. `requirements-tools.txt` is what the
kit's own tools need besides: the rest of `dependencies` and pytest from the dev extra.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath

from grader.kit._files import KitFile, LayoutError

PYPROJECT = "pyproject.toml"
APPS_SECTION = "# the apps"
DEV_TOOLS = ("pytest",)
_REQUIREMENT = re.compile(r'^\s*"([^"]+)",?\s*(?:#.*)?$')
_NAME = re.compile(r"^[A-Za-z0-9._-]+")

APP_HEADER = """\
# The packages your app runs with: the grader's own environment, pinned. Your app may import these and
# what they install with them, no other third-party package (CANDIDATE.md says how to ask for another).
"""
TOOLS_HEADER = """\
# The kit's own tools (development database, payments stub, smoke and load tests); not for your app.
"""


def requirement_files(root: Path) -> list[KitFile]:
    apps, others = _dependency_sections(root / PYPROJECT)
    dev = tomllib.loads((root / PYPROJECT).read_text())["project"]["optional-dependencies"]["dev"]
    tools = others + [req for req in dev if _name(req) in DEV_TOOLS]
    if missing := set(DEV_TOOLS) - {_name(req) for req in tools}:
        raise LayoutError(f"{PYPROJECT}: the dev extra lacks {', '.join(sorted(missing))}")
    return [
        KitFile(PurePosixPath("requirements.txt"), _text(APP_HEADER, apps), PYPROJECT),
        KitFile(PurePosixPath("requirements-tools.txt"), _text(TOOLS_HEADER, tools), PYPROJECT),
    ]


def _dependency_sections(pyproject: Path) -> tuple[list[str], list[str]]:
    """(the apps' requirements, every other one) from `dependencies`, checked against TOML's reading."""
    text = pyproject.read_text()
    declared = tomllib.loads(text)["project"]["dependencies"]
    block = re.search(r"^dependencies\s*=\s*\[(.*?)^\]", text, re.MULTILINE | re.DOTALL)
    if block is None:
        raise LayoutError(f"{PYPROJECT}: no `dependencies = [...]` block")
    apps: list[str] = []
    others: list[str] = []
    section = ""
    for line in block.group(1).splitlines():
        if line.strip().startswith("#"):
            section = line.strip()
        elif match := _REQUIREMENT.match(line):
            (apps if section.startswith(APPS_SECTION) else others).append(match.group(1))
    if not apps:
        raise LayoutError(f"{PYPROJECT}: no requirements under a {APPS_SECTION!r} comment in `dependencies`")
    if sorted(apps + others) != sorted(declared):
        raise LayoutError(f"{PYPROJECT}: `dependencies` must hold one quoted requirement per line")
    return apps, others


def _name(requirement: str) -> str:
    match = _NAME.match(requirement)
    return match.group(0).lower() if match else ""


def _text(header: str, requirements: list[str]) -> bytes:
    return (header + "".join(f"{req}\n" for req in requirements)).encode()
