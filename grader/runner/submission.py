"""A private copy of a submission: the grader never runs, writes to or leaves anything in the original."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

IGNORED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "venv",
    "__pycache__",
    "*.pyc",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "node_modules",
    ".kit",
)


class SubmissionError(ValueError):
    """The submission cannot be graded as given (one-line reason)."""


@contextlib.contextmanager
def private_copy(source: Path) -> Iterator[Path]:
    """Copy the submission's app into a temp directory removed on exit; yield the copy's root."""
    source = source.resolve()
    if not source.is_dir():
        raise SubmissionError(f"{source} is not a directory")
    if not (source / "app" / "main.py").is_file():
        raise SubmissionError(f"{source} has no app/main.py (the app must be importable as app.main:app)")
    root = Path(tempfile.mkdtemp(prefix="kit-sub-"))
    try:
        copy = root / "submission"
        shutil.copytree(source, copy, ignore=IGNORED, symlinks=True)
        yield copy
    finally:
        shutil.rmtree(root, ignore_errors=True)


def content_hash(root: Path) -> str:
    """sha256 over every file's relative path and bytes, in a stable order: the same code, the same hash."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
