"""Pack the kit directory, as you changed it, into a tarball to send back."""

from __future__ import annotations

import tarfile
from pathlib import Path

# What is yours but not the submission: environments, caches, run logs, earlier tarballs.
EXCLUDED = frozenset({".venv", "venv", ".kit", ".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})


def write_submission(root: Path, out: Path) -> int:
    with tarfile.open(out, "w:gz") as archive:
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if EXCLUDED & set(relative.parts) or path == out or path.suffix == ".pyc" or path.name.endswith(".tar.gz"):
                continue
            archive.add(path, arcname=str(Path(root.name) / relative), recursive=False)
    print(f"wrote {out}")
    if not (root / "NOTES.md").is_file():
        print("reminder: add NOTES.md (what you changed, why, and how you measured it) and pack again")
    return 0
