"""Mutants: the reference solution with exactly one catalogued bug put back, one module per bug.

Each mutant is a list of exact text replacements applied to a private copy of `solution/`; an old text
that is not found exactly once fails loudly, so a change to the solution that a mutant no longer fits
breaks the build instead of silently producing a program without the bug.
"""

from __future__ import annotations

import importlib

from grader.catalogue import load_catalogue

from ._mutant import SOLUTION, Edit, Mutant, MutantError


def mutant_for(name: str) -> Mutant:
    """The mutant of a catalogued bug (module `grader/proof/mutants/<bug id with underscores>.py`), or one of
    its variants, `<bug id>@<variant>` (the module's VARIANTS)."""
    bug_id, _, variant = name.partition("@")
    module = importlib.import_module(f"{__name__}.{bug_id.replace('-', '_')}")
    candidates: list[Mutant] = [module.MUTANT, *getattr(module, "VARIANTS", ())]
    for mutant in candidates:
        if mutant.bug_id != bug_id:
            raise MutantError(f"module {module.__name__} holds a mutant of {mutant.bug_id}, not {bug_id}")
        if mutant.variant == variant:
            return mutant
    raise MutantError(f"no mutant {name}: {module.__name__} has {', '.join(m.name for m in candidates)}")


def all_mutants() -> list[Mutant]:
    """One mutant per catalogued bug, in catalogue order."""
    return [mutant_for(bug_id) for bug_id in load_catalogue().ids]


def variant_names() -> list[str]:
    """Every variant (a bug put back in one more place), in catalogue order: `<bug id>@<variant>`."""
    names = []
    for bug_id in load_catalogue().ids:
        module = importlib.import_module(f"{__name__}.{bug_id.replace('-', '_')}")
        names += [mutant.name for mutant in getattr(module, "VARIANTS", ())]
    return names


__all__ = ["SOLUTION", "Edit", "Mutant", "MutantError", "all_mutants", "mutant_for", "variant_names"]
