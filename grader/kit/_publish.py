"""Writing a built kit out: the directory, the tarball, and optionally a fresh git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterable
from pathlib import Path

from grader.kit._files import KitFile

GIT_TIMEOUT = 60.0
GIT_IDENTITY = ("Candidate kit", "candidate-kit@localhost")


def write_tree(files: Iterable[KitFile], directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    for file in files:
        target = directory / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file.data)
        target.chmod(0o644)


def write_tarball(directory: Path, tarball: Path) -> None:
    """`directory` as `<its name>/...` in a gzip tarball, owned by nobody in particular."""
    now = int(time.time())

    def normalized(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = now
        return info

    partial = tarball.with_name(f".{tarball.name}.partial")
    with tarfile.open(partial, "w:gz") as archive:
        for path in [directory, *sorted(directory.rglob("*"))]:
            if ".git" in path.relative_to(directory).parts:
                continue
            archive.add(path, arcname=str(Path(directory.name) / path.relative_to(directory)), recursive=False,
                        filter=normalized)  # fmt: skip
    os.replace(partial, tarball)


def make_git_repository(directory: Path) -> None:
    """Turn `directory` into a git repository with one commit of everything in it."""
    name, email = GIT_IDENTITY
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",  # no hooks, signing or templates of ours
    }  # fmt: skip
    for command in (
        ["git", "init", "--quiet", "--initial-branch=main"],
        ["git", "add", "--all"],
        ["git", "commit", "--quiet", "--no-verify", "--message", "Candidate kit"],
    ):
        subprocess.run(command, cwd=directory, env=env, check=True, capture_output=True, timeout=GIT_TIMEOUT)
