"""Code similarity across a cohort, with copydetect's winnowed fingerprints (the MOSS algorithm).

Each submission's Python files are read as one document; what also appears in the exercise (the starter
code every candidate received) is boilerplate and counts for nobody. A pair's similarity is the share of
the smaller side's remaining tokens that the other side shares. It is a reason to look, never a verdict:
independent fixes of the same bug converge, so a high figure means "review suggested" and nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from copydetect.utils import (
    filter_code,
    find_fingerprint_overlap,
    get_copied_slices,
    get_document_fingerprints,
    get_token_coverage,
)

NOISE_K = 25  # tokens in a k-gram: shorter matches are noise (copydetect's default)
GUARANTEE_T = 30  # any shared run of this many tokens is always found (winnow window = t - k + 1)
REVIEW_THRESHOLD = 0.5  # share of the smaller submission's own (non-starter) code found in the other
MAX_FILE_BYTES = 256 * 1024
MAX_FRAGMENTS = 5
FRAGMENT_CHARS = 600


@dataclass(frozen=True)
class Document:
    """One submission's code as copydetect sees it."""

    name: str
    files: dict[str, str]  # relative path -> source
    text: str = field(init=False)
    starts: list[tuple[int, str]] = field(init=False)  # where each file begins in `text`

    def __post_init__(self) -> None:
        parts, starts, at = [], [], 0
        for path in sorted(self.files):
            starts.append((at, path))
            parts.append(self.files[path] + "\n")
            at += len(parts[-1])
        object.__setattr__(self, "text", "".join(parts))
        object.__setattr__(self, "starts", starts)

    def locate(self, offset: int) -> tuple[str, int]:
        """(file, line) of a character offset in `text`."""
        start, path = max((s for s in self.starts if s[0] <= offset), default=(0, "?"))
        return path, self.text.count("\n", start, offset) + 1


@dataclass(frozen=True)
class Fingerprint:
    document: Document
    hashes: set[int]
    index: dict[int, list[int]]
    offsets: np.ndarray
    tokens: int  # filtered tokens left after the boilerplate is removed


@dataclass(frozen=True)
class Fragment:
    left: str  # file:line in the first submission
    right: str
    left_code: str
    right_code: str


@dataclass(frozen=True)
class Pair:
    left: str
    right: str
    similarity: float  # of the smaller side's own code
    left_share: float  # of the left's own code found in the right
    right_share: float
    review_suggested: bool
    fragments: list[Fragment]

    def as_dict(self) -> dict[str, object]:
        return {
            "left": self.left,
            "right": self.right,
            "similarity": round(self.similarity, 3),
            "left_share": round(self.left_share, 3),
            "right_share": round(self.right_share, 3),
            "review_suggested": self.review_suggested,
            "fragments": [vars(f) for f in self.fragments],
        }


def read_python(root: Path) -> dict[str, str]:
    """The `.py` files under `root` (caches and virtualenvs skipped), by relative path."""
    files = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if any(part.startswith(".") or part in {"__pycache__", "venv", "node_modules"} for part in relative.parts):
            continue
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_FILE_BYTES:
            files[relative.as_posix()] = path.read_text(errors="replace")
    return files


def _filtered(document: Document) -> tuple[str, np.ndarray]:
    code, offsets = filter_code(document.text, "submission.py", "python")
    return code, offsets


def _boilerplate(starter: Iterable[Document]) -> list[int]:
    hashes: set[int] = set()
    for document in starter:
        code, _ = _filtered(document)
        found, _ = get_document_fingerprints(code, NOISE_K, GUARANTEE_T - NOISE_K + 1)
        hashes.update(int(h) for h in found)
    return sorted(hashes)


def fingerprint(document: Document, boilerplate: Sequence[int]) -> Fingerprint:
    code, offsets = _filtered(document)
    hashes, index = get_document_fingerprints(code, NOISE_K, GUARANTEE_T - NOISE_K + 1, list(boilerplate))
    tokens = int(get_token_coverage(index, NOISE_K, len(code)))
    return Fingerprint(document, {int(h) for h in hashes}, dict(index), offsets, tokens)


def _raw(print_: Fingerprint, slices: np.ndarray) -> np.ndarray:
    """Slices of the filtered code mapped back onto the submission's own text."""
    if len(print_.offsets) == 0 or slices.size == 0:
        return slices
    mapped: np.ndarray = (
        slices
        + print_.offsets[:, 1][np.clip(np.searchsorted(print_.offsets[:, 0], slices), 0, print_.offsets.shape[0] - 1)]
    )
    return mapped


def compare(a: Fingerprint, b: Fingerprint) -> Pair:
    index_a, index_b = find_fingerprint_overlap(a.hashes, b.hashes, a.index, b.index)
    slices_a, slices_b = get_copied_slices(index_a, NOISE_K), get_copied_slices(index_b, NOISE_K)
    shared_a = int(np.sum(slices_a[1] - slices_a[0])) if len(slices_a[0]) else 0
    shared_b = int(np.sum(slices_b[1] - slices_b[0])) if len(slices_b[0]) else 0
    share_a = min(1.0, shared_a / a.tokens) if a.tokens else 0.0
    share_b = min(1.0, shared_b / b.tokens) if b.tokens else 0.0
    similarity = max(share_a, share_b) if min(a.tokens, b.tokens) else 0.0
    fragments = _fragments(a, b, _raw(a, slices_a), _raw(b, slices_b))
    return Pair(
        a.document.name,
        b.document.name,
        similarity,
        share_a,
        share_b,
        similarity >= REVIEW_THRESHOLD,
        fragments,
    )


def _fragments(a: Fingerprint, b: Fingerprint, raw_a: np.ndarray, raw_b: np.ndarray) -> list[Fragment]:
    """The longest shared runs, side by side (copydetect pairs them in order of appearance)."""
    if raw_a.size == 0 or raw_b.size == 0:
        return []
    runs_a = sorted(zip(raw_a[0], raw_a[1], strict=True), key=lambda s: s[0] - s[1])[:MAX_FRAGMENTS]
    runs_b = list(zip(raw_b[0], raw_b[1], strict=True))
    fragments = []
    for start, end in runs_a:
        code = a.document.text[int(start) : int(end)]
        # the same text on the other side: the run of b whose code overlaps it most
        other = max(runs_b, key=lambda s: _overlap(code, b.document.text[int(s[0]) : int(s[1])]))
        file_a, line_a = a.document.locate(int(start))
        file_b, line_b = b.document.locate(int(other[0]))
        fragments.append(
            Fragment(
                f"{file_a}:{line_a}",
                f"{file_b}:{line_b}",
                code[:FRAGMENT_CHARS],
                b.document.text[int(other[0]) : int(other[1])][:FRAGMENT_CHARS],
            )
        )
    return fragments


def _overlap(x: str, y: str) -> int:
    words_x, words_y = set(x.split()), set(y.split())
    return len(words_x & words_y)


def cohort(
    submissions: Mapping[str, Mapping[str, str]], starter: Mapping[str, str], reference: Mapping[str, str] | None
) -> list[Pair]:
    """Every pair of submissions, and each against the reference, ranked most similar first."""
    boilerplate = _boilerplate([Document("starter", dict(starter))])
    prints = {name: fingerprint(Document(name, dict(files)), boilerplate) for name, files in submissions.items()}
    names = sorted(prints)
    pairs = [compare(prints[x], prints[y]) for i, x in enumerate(names) for y in names[i + 1 :]]
    if reference is not None:
        ref = fingerprint(Document("reference solution", dict(reference)), boilerplate)
        pairs += [compare(prints[name], ref) for name in names]
    return sorted(pairs, key=lambda p: (-p.similarity, p.left, p.right))
