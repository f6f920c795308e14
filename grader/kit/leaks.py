"""The leak check: nothing of the hidden set may reach a candidate, whole or in pieces.

The hidden set is the reference solution, the bug catalogue, the grader's contract suite, probes and
proof (the traps), the load scenarios and the kit's own tests. A kit file leaks when

- its path lies in the hidden set, or its bytes equal a hidden file's (a renamed copy);
- it names a bug id, a probe module, a probe metric or a hidden contract case (a name counts when no
  letter or digit touches it, so `test_order_reads_back` names the case `order_reads_back`), or talks
  about the grader's insides (probes, the catalogue, mutants, the reference solution);
- it contains catalogue prose: a bug's title, where, symptom, detection or note as a whole, or any one
  clause (split at ";") of its fix and accepted alternative fixes; case and white space do not matter;
- it contains a distinctive line of `solution/` (see `distinctive`), white space aside.

Anything that already occurs in the public sources (`exercise/`, `contract/`, `db/`) cannot leak and is
never forbidden: the kit ships those sources. A solution line that the grader's own (not hidden) code also
has, such as `log = logging.getLogger(__name__)`, is common idiom, not the solution's.
"""

from __future__ import annotations

import ast
import bisect
import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# grader/proof: the traps are whole apps, mostly solution code (and so never the grader's own idiom)
HIDDEN = ("solution", "grader/catalogue.toml", "grader/contract", "grader/probes", "grader/proof", "scenarios", "tests")
PUBLIC = ("exercise", "contract", "db")
CATALOGUE = "grader/catalogue.toml"
CONTRACT_CASES = "grader/contract/cases.py"
PROBES = "grader/probes"
SKIPPED_PARTS = frozenset({"__pycache__", ".git", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache"})

# A solution line is distinctive when, white space collapsed, it is at least this long, has this many
# words (identifiers or words of 2+ characters), is not an import of a library, and occurs neither in the
# public sources nor in the grader's own code. Shorter lines (`return result`, `try:`) say nothing of the fix.
MIN_LINE_CHARS = 32
MIN_LINE_WORDS = 4
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]+")
_LIBRARY_IMPORT = re.compile(r"^(?:import\s+(?!app\b)[\w.]+|from\s+(?!app\b)[\w.]+\s+import\b)")
_SPACE = re.compile(r"\s+")
_PROSE_FIELDS = ("title", "where", "symptom", "detection", "threshold_note", "weight_reason")
_CLAUSE_FIELDS = ("fix", "alternative_fixes", "supporting_evidence")
# Words for the grader's insides: a kit never needs them, so they are forbidden even in the public
# sources (a section of CONTRACT.md about what the probes measure must not reach candidates).
GRADER_WORDS = ("probe", "probes", "catalogue", "mutant", "mutants", "reference solution")


@dataclass(frozen=True)
class Leak:
    """One forbidden thing found in a kit file; `line` is 0 for a whole-file finding."""

    path: PurePosixPath
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}" if self.line else f"{self.path}: {self.what}"


@dataclass(frozen=True)
class Forbidden:
    """Everything a kit must not contain, each mapped to a description of where it comes from."""

    digests: Mapping[str, str]  # sha256 of a hidden file -> the file
    names: Mapping[str, str]  # lower-cased name -> what it names
    phrases: Mapping[str, str]  # lower-cased, white-space-collapsed prose -> where it comes from
    lines: Mapping[str, str]  # white-space-collapsed solution line -> file:line


def normalize(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def distinctive(line: str, common: str) -> bool:
    """Whether a solution line would betray the solution; `common` is the normalized text it may share."""
    text = normalize(line)
    return (
        len(text) >= MIN_LINE_CHARS
        and len(_WORD.findall(text)) >= MIN_LINE_WORDS
        and not _LIBRARY_IMPORT.match(text)
        and text not in common
    )


def forbidden(root: Path) -> Forbidden:
    """What the repository at `root` keeps from candidates."""
    public = "\n".join(normalize(text) for _, text in _texts(root, PUBLIC))
    public_lower = public.lower()
    public_digests = {_digest(path.read_bytes()) for path in _files(root, PUBLIC)}
    catalogue = tomllib.loads((root / CATALOGUE).read_text())
    names = {
        **_catalogue_names(catalogue),
        **{name: "a probe module" for name in _probe_modules(root)},
        **{name: "a hidden contract case" for name in _contract_cases(root)},
    }
    return Forbidden(
        digests={
            digest: str(path.relative_to(root))
            for path in _files(root, HIDDEN)
            if (digest := _digest(path.read_bytes())) not in public_digests  # a trap keeps exercise files as they are
        },
        names={
            **{name: what for name, what in names.items() if not _name_pattern([name]).search(public)},
            **{word: "a word for the grader's insides" for word in GRADER_WORDS},
        },
        phrases={text: where for text, where in _catalogue_prose(catalogue) if text not in public_lower},
        lines=_solution_lines(root, public + "\n" + _grader_code(root)),
    )


def find_leaks(kit: Path, rules: Forbidden) -> list[Leak]:
    """Every leak in the directory `kit`, in path order."""
    names = _name_pattern(rules.names)
    leaks: list[Leak] = []
    for path in sorted(p for p in kit.rglob("*") if p.is_file()):
        relative = PurePosixPath(path.relative_to(kit).as_posix())
        if SKIPPED_PARTS & set(relative.parts):
            continue  # a candidate's own venv or caches, not the kit's content
        leaks += _path_leaks(relative)
        data = path.read_bytes()
        if (hidden := rules.digests.get(_digest(data))) is not None and _has_content(data):
            leaks.append(Leak(relative, 0, f"a copy of the hidden file {hidden}"))
        try:
            text = data.decode()
        except UnicodeDecodeError:
            continue  # binary: only its bytes can leak, checked above
        leaks += _text_leaks(relative, text, rules, names)
    return leaks


def _path_leaks(path: PurePosixPath) -> list[Leak]:
    for hidden in map(PurePosixPath, HIDDEN):
        if path == hidden or hidden in path.parents:
            return [Leak(path, 0, f"a path of the hidden set ({hidden})")]
    if path.name == PurePosixPath(CATALOGUE).name:
        return [Leak(path, 0, f"named as the hidden {CATALOGUE}")]
    return []


def _text_leaks(path: PurePosixPath, text: str, rules: Forbidden, names: re.Pattern[str]) -> list[Leak]:
    leaks = [
        Leak(
            path,
            text.count("\n", 0, match.start()) + 1,
            f"names {match.group(0)!r}: {rules.names[match.group(0).lower()]}",
        )
        for match in names.finditer(text)
    ]
    flat = _Flattened(text)
    for phrase, where in rules.phrases.items():
        leaks += [Leak(path, line, f"catalogue text ({where}): {phrase!r}") for line in flat.find(phrase, fold=True)]
    for line_text, where in rules.lines.items():
        leaks += [Leak(path, line, f"a line of {where}: {line_text!r}") for line in flat.find(line_text, fold=False)]
    return sorted(set(leaks), key=lambda leak: (leak.line, leak.what))


class _Flattened:
    """A text with white space collapsed, searchable, with each match traced back to its line."""

    def __init__(self, text: str) -> None:
        words = list(re.finditer(r"\S+", text))
        newlines = [match.start() for match in re.finditer("\n", text)]
        self.text = " ".join(word.group(0) for word in words)
        self.lower = self.text.lower()
        self._starts: list[int] = []  # where each word starts in self.text
        self._lines: list[int] = []  # the original line of each word
        offset = 0
        for word in words:
            self._starts.append(offset)
            self._lines.append(bisect.bisect_left(newlines, word.start()) + 1)
            offset += len(word.group(0)) + 1

    def find(self, needle: str, *, fold: bool) -> list[int]:
        haystack = self.lower if fold else self.text
        found, start = [], haystack.find(needle)
        while start >= 0:
            found.append(self._lines[bisect.bisect_right(self._starts, start) - 1])
            start = haystack.find(needle, start + 1)
        return found


def _name_pattern(names: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)) or r"(?!x)x"
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE)


def _catalogue_names(catalogue: Mapping[str, object]) -> dict[str, str]:
    names: dict[str, str] = {}
    for bug in _bugs(catalogue):
        names[str(bug["id"]).lower()] = f"a bug id ({CATALOGUE})"
        names[str(bug["id"]).replace("-", "_").lower()] = f"the probe of {bug['id']}"
        names[str(bug["metric"]).lower()] = f"the metric of the probe {bug['id']}"
    return names


def _catalogue_prose(catalogue: Mapping[str, object]) -> list[tuple[str, str]]:
    prose: list[tuple[str, str]] = []
    for bug in _bugs(catalogue):
        for field in _PROSE_FIELDS:
            if text := normalize(str(bug.get(field, ""))).lower():
                prose.append((text, f"{bug['id']}.{field}"))
        for field in _CLAUSE_FIELDS:
            value = bug.get(field, [])
            entries = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            for entry in entries:
                for clause in str(entry).split(";"):
                    if text := normalize(clause).rstrip(".").lower():
                        prose.append((text, f"{bug['id']}.{field}"))
    return prose


def _bugs(catalogue: Mapping[str, object]) -> list[Mapping[str, object]]:
    bugs = catalogue.get("bug", [])
    assert isinstance(bugs, list)
    return bugs


def _probe_modules(root: Path) -> list[str]:
    return [path.stem.lower() for path in (root / PROBES).glob("*.py") if not path.stem.startswith("_")]


def _contract_cases(root: Path) -> list[str]:
    """The names of the contract suite's cases: the functions decorated with `@case(...)`."""
    tree = ast.parse((root / CONTRACT_CASES).read_text())
    return [
        node.name.lower()
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)
        and any(_is_case_decorator(d) for d in node.decorator_list)
    ]


def _is_case_decorator(node: ast.expr) -> bool:
    """`@case` or `@case(severity=..., integrity=...)`."""
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Name) and target.id == "case"


def _solution_lines(root: Path, common: str) -> dict[str, str]:
    lines: dict[str, str] = {}
    for path, text in _texts(root, ("solution",)):
        for number, line in enumerate(text.splitlines(), start=1):
            if distinctive(line, common):
                lines.setdefault(normalize(line), f"{path.relative_to(root)}:{number}")
    return lines


def _grader_code(root: Path) -> str:
    hidden = [root / path for path in HIDDEN]
    modules = [
        path
        for path in sorted((root / "grader").rglob("*.py"))
        if not any(path == h or h in path.parents for h in hidden)
    ]
    return "\n".join(normalize(path.read_text()) for path in modules)


def _files(root: Path, tops: Iterable[str]) -> list[Path]:
    found: list[Path] = []
    for top in tops:
        base = root / top
        candidates = [base] if base.is_file() else sorted(base.rglob("*")) if base.is_dir() else []
        found += [
            p
            for p in candidates
            if p.is_file() and not SKIPPED_PARTS & set(p.relative_to(root).parts) and p.suffix != ".pyc"
        ]
    return found


def _texts(root: Path, tops: Iterable[str]) -> list[tuple[Path, str]]:
    texts = []
    for path in _files(root, tops):
        try:
            texts.append((path, path.read_text()))
        except UnicodeDecodeError:
            continue
    return texts


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _has_content(data: bytes) -> bool:
    """An empty or near-empty file (an `__init__.py`) is the same in every project: not a copy of anything."""
    return len(data.strip()) >= MIN_LINE_CHARS
