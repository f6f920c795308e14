"""A file of the candidate kit: where it goes, what it holds, where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


class LayoutError(RuntimeError):
    """The kit cannot be assembled from this repository (one-line reason naming the file)."""


@dataclass(frozen=True)
class KitFile:
    path: PurePosixPath  # inside the kit
    data: bytes
    source: str  # the repository file it was made from, for messages
