"""Unprivileged system accounts for the processes we start when the grader itself runs as root."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path


def system_user(name: str) -> pwd.struct_passwd | None:
    """The account `name`, created if missing; None when we are not root (children run as us)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)


def make_traversable(path: Path) -> None:
    """Let another account reach `path`: o+rx on it, o+x (pass through, not list) on its parents."""
    for directory, needed in [(path, 0o005), *((parent, 0o001) for parent in path.parents)]:
        mode = directory.stat().st_mode
        if mode & needed != needed:
            directory.chmod(mode | needed)
