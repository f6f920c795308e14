"""The scorecard: a score per category from the probes' verdicts, capped by the contract.

Every bug in a category weighs the same and every category weighs the same in the overall score. Only a
`fixed` verdict earns credit: `inconclusive` means the grader could not show the fix. A submission that
fails any contract case is capped at half of its contract pass rate, so getting fast by breaking behaviour
never scores well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from grader.catalogue import Catalogue

CONTRACT_CAP_FACTOR = 50.0


def contract_cap(passed: int, total: int) -> float:
    if passed >= total:
        return 100.0
    return round(CONTRACT_CAP_FACTOR * passed / total, 1)


def scorecard(
    catalogue: Catalogue, verdicts: Mapping[str, str], contract_passed: int, contract_total: int
) -> dict[str, Any]:
    categories: dict[str, dict[str, Any]] = {}
    for category in catalogue.categories:
        bugs = [bug.id for bug in catalogue.bugs if bug.category == category]
        fixed = sum(verdicts.get(bug) == "fixed" for bug in bugs)
        categories[category] = {"score": round(100 * fixed / len(bugs), 1), "fixed": fixed, "bugs": len(bugs)}
    uncapped = round(sum(c["score"] for c in categories.values()) / len(categories), 1)
    cap = contract_cap(contract_passed, contract_total)
    return {"overall": min(uncapped, cap), "uncapped": uncapped, "contract_cap": cap, "categories": categories}


def red_flags(
    catalogue: Catalogue, verdicts: Mapping[str, str], messages: dict[str, str], extra: Sequence[str] = ()
) -> list[dict[str, str]]:
    """Walk-away items still present, first in every report."""
    flags = [
        {"id": bug.id, "title": bug.title, "message": messages.get(bug.id, "")}
        for bug in catalogue.bugs
        if bug.red_flag and verdicts.get(bug.id) == "present"
    ]
    flags += [{"id": "contract", "title": text, "message": ""} for text in extra]
    return flags
