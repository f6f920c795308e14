"""Where a submission comes from: a directory, a `.tar.gz`, or a git repository (path or URL).

Each source is turned into a plain directory holding `app/main.py`, inside a temp directory this module
owns and removes. Archives are unpacked with tarfile's "data" filter: absolute paths, `..` entries, links
pointing outside and device files are refused, never written.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from grader.runner.submission import SubmissionError

CLONE_TIMEOUT = 120.0
GIT_URL = re.compile(r"^(https?|ssh|git|file)://|^[\w.-]+@[\w.-]+:")


@dataclass(frozen=True)
class Source:
    """A submission as given, and the directory it was resolved to."""

    given: str
    kind: str  # "directory" | "tarball" | "git"
    root: Path


def _app_root(directory: Path, given: str) -> Path:
    """The directory holding app/main.py: `directory` itself or its only subdirectory."""
    if (directory / "app" / "main.py").is_file():
        return directory
    children = [child for child in directory.iterdir() if not child.name.startswith(".")]
    if len(children) == 1 and children[0].is_dir() and (children[0] / "app" / "main.py").is_file():
        return children[0]
    raise SubmissionError(f"{given} has no app/main.py (the app must be importable as app.main:app)")


def _unpack(archive: Path, into: Path) -> None:
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar.getmembers():
                # The data filter would quietly strip a leading "/": a submission has no business there.
                if member.name.startswith("/") or ".." in Path(member.name).parts:
                    raise SubmissionError(f"{archive} is refused: {member.name!r} points outside the archive")
            tar.extractall(into, filter="data")
    except tarfile.FilterError as exc:
        raise SubmissionError(f"{archive} is refused: {exc}") from None
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise SubmissionError(f"{archive} is not a readable tar archive ({str(exc).splitlines()[0]})") from None


def _clone(url: str, into: Path) -> None:
    try:
        done = subprocess.run(
            # the whole history of one branch: the reviewer's guide counts its commits
            ["git", "clone", "--quiet", "--single-branch", "--no-tags", url, str(into)],
            capture_output=True,
            text=True,
            timeout=CLONE_TIMEOUT,
            check=False,
            env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin"},
        )
    except FileNotFoundError:
        raise SubmissionError("git is not installed, so a git repository cannot be graded") from None
    except subprocess.TimeoutExpired:
        raise SubmissionError(f"cloning {url} took longer than {CLONE_TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["git clone failed"])[-1]
        raise SubmissionError(f"cannot clone {url}: {reason}")


@contextlib.contextmanager
def resolve(given: str) -> Iterator[Source]:
    """Turn what the reviewer passed into a directory; clean up whatever that took."""
    path = Path(given)
    if GIT_URL.match(given) and not path.exists():
        kind = "git"
    elif path.is_dir():
        kind = "git" if (path / ".git").exists() else "directory"
    elif path.is_file():
        kind = "tarball"
    else:
        raise SubmissionError(f"{given}: no such file or directory")
    if kind == "directory":
        yield Source(given, kind, _app_root(path.resolve(), given))
        return
    work = Path(tempfile.mkdtemp(prefix="kit-src-"))
    try:
        target = work / "submission"
        if kind == "git":
            _clone(str(path.resolve()) if path.exists() else given, target)
        else:
            target.mkdir()
            _unpack(path, target)
        yield Source(given, kind, _app_root(target, given))
    finally:
        shutil.rmtree(work, ignore_errors=True)
