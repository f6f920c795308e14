"""The grader's infrastructure modules the kit's tools reuse, copied into the kit's `tools/` package.

A candidate runs the same embedded PostgreSQL, PostgreSQL proxy and payments stub as the grader, so the
code is copied at build time rather than kept twice: every module that kit/tools imports but does not
have comes from grader/infra/, with the modules it imports in turn, its imports moved from `grader.infra.`
to `tools.`. A copy that still reaches into the grader, or that talks
about the exercise or the solution where a comment line cannot simply be dropped, fails the build.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from grader.kit._files import KitFile, LayoutError

INFRA = "grader/infra"
KIT_TOOLS = "kit/tools"
KIT_PACKAGE = "tools"
# The kit's root is one level above tools/; the repository's is two levels above grader/infra/.
PATH_FIXES = {"postgres": (('parents[2] / "db"', 'parents[1] / "db"'),)}
_IMPORT = re.compile(r"^\s*(?:from|import)\s+grader\.infra\.(\w+)", re.MULTILINE)
_KIT_IMPORT = re.compile(rf"^\s*(?:from|import)\s+{KIT_PACKAGE}\.(\w+)", re.MULTILINE)
_GRADER_IMPORT = re.compile(r"^\s*(?:from|import)\s+grader\b.*$", re.MULTILINE)
_TELLING = re.compile(r"\b(?:exercise|solution)s?\b", re.IGNORECASE)


def infra_files(root: Path) -> list[KitFile]:
    """The grader.infra modules kit/tools needs, and everything they import from grader.infra, rewritten."""
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
        files.append(
            KitFile(
                PurePosixPath(KIT_PACKAGE, f"{name}.py"), _rewrite(name, text).encode(), str(source.relative_to(root))
            )
        )
    return sorted(files, key=lambda file: file.path)


def _rewrite(name: str, text: str) -> str:
    where = f"{INFRA}/{name}.py"
    for old, new in PATH_FIXES.get(name, ()):
        if text.count(old) != 1:
            raise LayoutError(f"{where}: expected {old!r} once, to point the copy at the kit's db/")
        text = text.replace(old, new)
    text = text.replace("grader.infra.", f"{KIT_PACKAGE}.")
    if stray := _GRADER_IMPORT.search(text):
        raise LayoutError(f"{where}: {stray.group(0).strip()!r} reaches outside grader.infra; the kit cannot ship it")
    kept = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if _TELLING.search(line):
            if line.lstrip().startswith("#"):
                continue  # a comment about the exercise is for us, not for candidates
            raise LayoutError(f"{where}:{number}: mentions the exercise or the solution: {line.strip()!r}")
        kept.append(line)
    return "".join(kept)
