"""The grader's infrastructure modules the kit's tools reuse, copied into the kit's `tools/` package.

A candidate runs the same embedded PostgreSQL, PostgreSQL proxy and payments stub as the grader, so the
code is copied at build time rather than kept twice: every module that kit/tools imports but does not
have comes from grader/infra/, with the modules it imports in turn, byte for byte. That works because
grader/infra/ imports its own modules relatively and is told where the seed is; a module that reaches
into the rest of the grader, or that talks about the exercise or the solution, fails the build.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from grader.kit._files import KitFile, LayoutError

INFRA = "grader/infra"
KIT_TOOLS = "kit/tools"
KIT_PACKAGE = "tools"
_IMPORT = re.compile(r"^\s*from\s+\.(\w+)\s+import", re.MULTILINE)
_KIT_IMPORT = re.compile(rf"^\s*(?:from|import)\s+{KIT_PACKAGE}\.(\w+)", re.MULTILINE)
_GRADER_IMPORT = re.compile(r"^\s*(?:from|import)\s+grader\b.*$", re.MULTILINE)
_TELLING = re.compile(r"\b(?:exercise|solution)s?\b", re.IGNORECASE)


def infra_files(root: Path) -> list[KitFile]:
    """The grader.infra modules kit/tools needs, and everything they import from grader.infra, unchanged."""
    own = {path.stem: path.read_text() for path in (root / KIT_TOOLS).glob("*.py")}
    wanted = sorted({name for text in own.values() for name in _KIT_IMPORT.findall(text)} - set(own))
    seen = set[str]()
    files = []
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        source = root / INFRA / f"{name}.py"
        if not source.is_file():
            raise LayoutError(f"{KIT_TOOLS} imports tools.{name}, which is neither in {KIT_TOOLS} nor in {INFRA}")
        text = source.read_text()
        wanted += _IMPORT.findall(text)
        _check(name, text)
        files.append(KitFile(PurePosixPath(KIT_PACKAGE, f"{name}.py"), text.encode(), str(source.relative_to(root))))
    return sorted(files, key=lambda file: file.path)


def _check(name: str, text: str) -> None:
    where = f"{INFRA}/{name}.py"
    if stray := _GRADER_IMPORT.search(text):
        raise LayoutError(f"{where}: {stray.group(0).strip()!r} reaches outside grader.infra; the kit cannot ship it")
    for number, line in enumerate(text.splitlines(), start=1):
        if _TELLING.search(line):
            raise LayoutError(f"{where}:{number}: mentions the exercise or the solution: {line.strip()!r}")
