"""A git submission's history in numbers: how the work was spread over time and commits."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GIT_TIMEOUT = 30.0
MAX_COMMITS = 5000
_MARK = "\x1ecommit "  # a record separator no commit subject contains


def _git(root: Path, *args: str) -> str:
    # Never the reviewer's or the repository's configuration, never a pager or a prompt.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}
    env |= {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C"}
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT, env=env, check=True
    )
    return done.stdout


def history(repository: Path) -> dict[str, Any] | None:
    """Commits, first and last commit time, span, the largest commit's share of the change, files changed."""
    try:
        log = _git(repository, "log", f"--max-count={MAX_COMMITS}", f"--format={_MARK}%H %at", "--numstat")
    except (OSError, subprocess.SubprocessError):
        return None
    commits: list[tuple[int, int]] = []  # (time, lines changed)
    files: list[set[str]] = []
    for record in log.split(_MARK)[1:]:
        header, _, body = record.partition("\n")
        changed, touched = 0, set()
        for line in body.splitlines():
            parts = line.split("\t")
            if len(parts) == 3:
                added, deleted, name = parts
                changed += (int(added) if added.isdigit() else 0) + (int(deleted) if deleted.isdigit() else 0)
                touched.add(name)
        commits.append((int(header.split()[1]), changed))
        files.append(touched)
    if not commits:
        return None
    times = [t for t, _ in commits]
    # git log lists the newest first; the oldest is the starter code as received (a kit repository has one
    # commit) whenever there is work on top of it, so the work is what came after it.
    work = commits[:-1] if len(commits) > 1 else commits
    total = sum(c for _, c in work)

    def iso(stamp: int) -> str:
        return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="minutes")

    return {
        "commits": len(commits),
        "first_commit": iso(min(times)),
        "last_commit": iso(max(times)),
        "span_hours": round((max(times) - min(times)) / 3600, 1),
        "largest_commit_share": round(max(c for _, c in work) / total, 2) if total else None,
        "lines_changed": total,
        "files_changed": len(set().union(*files[: len(work)])),
        "counted_from": "the second commit (the first is the starter code)" if len(commits) > 1 else "the only commit",
    }
