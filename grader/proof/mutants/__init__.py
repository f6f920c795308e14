"""Mutants: the reference solution with exactly one catalogued bug put back, one module per bug.

Each mutant is a list of exact text replacements applied to a private copy of `solution/`; an old text
that is not found exactly once fails loudly, so a change to the solution that a mutant no longer fits
breaks the build instead of silently producing a program without the bug.
"""

from __future__ import annotations

import importlib

from grader.catalogue import load_catalogue

from ._mutant import SOLUTION, Edit, Mutant, MutantError


def mutant_for(bug_id: str) -> Mutant:
    """The mutant of a catalogued bug (module `grader/proof/mutants/<bug id with underscores>.py`)."""
    module = importlib.import_module(f"{__name__}.{bug_id.replace('-', '_')}")
    mutant: Mutant = module.MUTANT
    if mutant.bug_id != bug_id:
        raise MutantError(f"module {module.__name__} holds the mutant of {mutant.bug_id}, not {bug_id}")
    return mutant


def all_mutants() -> list[Mutant]:
    """One mutant per catalogued bug, in catalogue order."""
    return [mutant_for(bug_id) for bug_id in load_catalogue().ids]


__all__ = ["SOLUTION", "Edit", "Mutant", "MutantError", "all_mutants", "mutant_for"]
