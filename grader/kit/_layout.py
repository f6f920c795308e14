"""What goes into the candidate kit, from where.

app/                 exercise/app (the candidate's app: a kit directory is itself a submission)
db/, contract/       the schema and seed as they are; the HTTP contract less what it says about grading
CANDIDATE.md         the brief
README.md            exercise/README.md, run from the kit's root
Makefile, smoke/, load/, tools/, .gitignore     kit/ (the kit's own sources)
tools/postgres.py, pgproxy.py, payments_stub.py, ...      the grader's infrastructure, copied
requirements.txt, requirements-tools.txt        the pins, from pyproject.toml
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from grader.kit._files import KitFile, LayoutError
from grader.kit._infra import infra_files
from grader.kit.requirements import requirement_files

SKIPPED_NAMES = frozenset({"__pycache__", ".DS_Store", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
# Dot files live in kit/ without their dot, so that they do not act on this repository.
RENAMES = {PurePosixPath("gitignore"): PurePosixPath(".gitignore")}
# The service's README tells how to run it from this repository's root; the kit's root is the app's.
README_FIXES = (("--app-dir exercise ", ""),)
CONTRACT = "contract/CONTRACT.md"
# CONTRACT.md opens by naming the exercise and the solution, and may have sections on what the grader
# checks where: the kit's copy opens with this instead, and leaves out every section about the grader.
CONTRACT_INTRO = """\
# The orders API — contract

The HTTP contract your service keeps. `openapi.json` beside this file is its OpenAPI document; this
page says what OpenAPI cannot.

"""
_SECTION = re.compile(r"^## .*$", re.MULTILINE)


def kit_files(root: Path) -> list[KitFile]:
    """Every file of the kit built from the repository at `root`."""
    files = [
        *_tree(root, "exercise/app", PurePosixPath("app")),
        *_tree(root, "db", PurePosixPath("db")),
        *[file for file in _tree(root, "contract", PurePosixPath("contract")) if file.source != CONTRACT],
        _contract(root),
        *_tree(root, "kit", PurePosixPath()),
        _file(root, "CANDIDATE.md", PurePosixPath("CANDIDATE.md")),
        _readme(root),
        *infra_files(root),
        *requirement_files(root),
    ]
    seen: dict[PurePosixPath, str] = {}
    for file in files:
        if file.path in seen:
            raise LayoutError(f"{file.path} would come from both {seen[file.path]} and {file.source}")
        seen[file.path] = file.source
    return sorted(files, key=lambda file: file.path)


def _tree(root: Path, source: str, dest: PurePosixPath) -> list[KitFile]:
    base = root / source
    if not base.is_dir():
        raise LayoutError(f"{source}/ is missing")
    files = []
    for path in sorted(base.rglob("*")):
        relative = PurePosixPath(path.relative_to(base).as_posix())
        if not path.is_file() or SKIPPED_NAMES & set(relative.parts) or path.suffix == ".pyc":
            continue
        files.append(KitFile(dest / RENAMES.get(relative, relative), path.read_bytes(), f"{source}/{relative}"))
    return files


def _file(root: Path, source: str, dest: PurePosixPath) -> KitFile:
    path = root / source
    if not path.is_file():
        raise LayoutError(f"{source} is missing")
    return KitFile(dest, path.read_bytes(), source)


def _contract(root: Path) -> KitFile:
    text = _file(root, CONTRACT, PurePosixPath()).data.decode()
    headings = list(_SECTION.finditer(text))
    if not headings:
        raise LayoutError(f"{CONTRACT}: no `## ` section to keep")
    sections = [text[h.start() : (headings[i + 1].start() if i + 1 < len(headings) else len(text))]
                for i, h in enumerate(headings)]  # fmt: skip
    kept = [section for section in sections if "grader" not in section.splitlines()[0].lower()]
    return KitFile(PurePosixPath(CONTRACT), (CONTRACT_INTRO + "".join(kept).rstrip() + "\n").encode(), CONTRACT)


def _readme(root: Path) -> KitFile:
    source = "exercise/README.md"
    text = _file(root, source, PurePosixPath()).data.decode()
    for old, new in README_FIXES:
        if old not in text:
            raise LayoutError(f"{source}: expected {old!r} in its run command")
        text = text.replace(old, new)
    return KitFile(PurePosixPath("README.md"), text.encode(), source)
