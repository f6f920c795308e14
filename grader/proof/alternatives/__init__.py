"""Alternative correct submissions: every bug fixed differently from the reference solution, so a grader that
recognises only the reference's way would be wrong about them. Each is a directory here holding `app/main.py`
(see README.md); `make validate` grades each as the column `alt-<directory>`, every bug expected `fixed`."""

from __future__ import annotations

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
PREFIX = "alt-"


def names() -> list[str]:
    """The alternatives' directory names, sorted."""
    return sorted(main.parent.parent.name for main in DIRECTORY.glob("*/app/main.py"))


def app_root(name: str) -> Path:
    """The directory to grade for alternative `name` (it holds app/main.py)."""
    return DIRECTORY / name
