"""Repeatability: the same submission graded several times must get the same verdicts, and how far its
normalised latency (candidate over reference) moves between runs is measured, not assumed.

Pure functions over what each run's report said, so they are tested without grading. A load run that is
invalid (the grader's own checks failed, or the phase did not run) is kept out of the figures and
listed beside them, never averaged in.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

TOTAL = "all requests"  # the whole-scenario row of a scenario's ratios (grader.load.stats.TOTAL)
FIGURES = ("p95", "throughput")
INDEX = "load.index p95"


@dataclass
class Run:
    """One grade of a submission: `label` says which (`matrix` for the matrix's own grade, `r1`...)."""

    label: str
    verdicts: dict[str, str]
    contract: str
    error: str | None = None
    load: dict[str, Any] | None = None  # report.json's load section
    measured: bool = True  # False: graded without the load phase (the matrix's grade), so no figures


@dataclass
class Sample:
    """One run's load figures: per scenario {figure: ratio}, or why the run does not count."""

    ratios: dict[str, dict[str, float | None]] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)  # scenario (or INDEX) -> reason
    index_p95: float | None = None
    reference: str | None = None  # fresh or cached


def differences(runs: list[Run]) -> dict[str, dict[str, str]]:
    """The rows (bugs, then `contract` and `grade`) on which the runs disagree: row -> {run label: value}."""
    rows: dict[str, dict[str, str]] = {}
    for run in runs:
        for bug, verdict in run.verdicts.items():
            rows.setdefault(bug, {})[run.label] = verdict
    for run in runs:  # a bug missing from one run (its grade failed) is a difference too
        for row in rows.values():
            row.setdefault(run.label, "-")
        rows.setdefault("contract", {})[run.label] = run.contract
        rows.setdefault("grade", {})[run.label] = "failed" if run.error else "ok"
    return {row: values for row, values in rows.items() if len(set(values.values())) > 1}


def sample(load: dict[str, Any] | None, scenarios: list[str]) -> Sample:
    """The whole-scenario p95 and throughput ratios of one run's load section, and what in it is invalid."""
    if not load or load.get("status") != "ran":
        reason = (load or {}).get("reason") or "the load phase did not run"
        return Sample(invalid=dict.fromkeys([*scenarios, INDEX], str(reason)))
    found = Sample(reference=(load.get("reference") or {}).get("source"))
    entries = {entry["name"]: entry for entry in load.get("scenarios", [])}
    for name in scenarios:
        entry = entries.get(name)
        if entry is None:
            found.invalid[name] = "not in the report"
        elif not entry.get("valid") or not entry.get("ratios"):
            found.invalid[name] = "; ".join(entry.get("invalid_reasons") or []) or "no reference to compare with"
        else:
            total = entry["ratios"].get(TOTAL, {})
            found.ratios[name] = {figure: total.get(figure) for figure in FIGURES}
    index = load.get("index") or {}
    if found.invalid or index.get("scenarios") != len(scenarios):
        # the index is a geometric mean over the valid scenarios only: with one missing it is another number
        found.invalid[INDEX] = f"over {index.get('scenarios', 0)} of {len(scenarios)} scenarios"
    else:
        found.index_p95 = index.get("p95")
    return found


def spread(values: list[float]) -> dict[str, float | int | None]:
    """n, min, median, max and max/min of some ratios (None when there are none)."""
    if not values:
        return {"n": 0, "min": None, "median": None, "max": None, "max_over_min": None}
    low, high = min(values), max(values)
    return {
        "n": len(values),
        "min": low,
        "median": round(statistics.median(values), 3),
        "max": high,
        "max_over_min": round(high / low, 3) if low > 0 else None,
    }


def summarise(runs: list[Run], scenarios: list[str]) -> dict[str, Any]:
    """One submission's repeatability: its verdict differences and the spread of its load ratios."""
    samples = {run.label: sample(run.load, scenarios) for run in runs if run.measured}
    figures: dict[str, Any] = {}
    for name in scenarios:
        valid = [s for s in samples.values() if name in s.ratios]
        figures[name] = {
            figure: spread([v for s in valid if (v := s.ratios[name][figure]) is not None]) for figure in FIGURES
        }
        figures[name]["invalid"] = {label: s.invalid[name] for label, s in samples.items() if name in s.invalid}
    index_values = [s.index_p95 for s in samples.values() if s.index_p95 is not None]
    figures[INDEX] = {
        "p95": spread(index_values),
        "invalid": {label: s.invalid[INDEX] for label, s in samples.items() if INDEX in s.invalid},
    }
    found = differences(runs)
    return {
        "runs": [run.label for run in runs],
        "verdicts_identical": not found,
        "differences": found,
        "reference": {label: s.reference for label, s in samples.items()},
        "figures": figures,
    }


def problems(name: str, summary: dict[str, Any]) -> list[str]:
    """One line per row on which a submission's runs disagree: `bug: matrix F, r1 F, r2 P`."""
    return [
        f"repeat {name}: {row}: " + ", ".join(f"{label} {value}" for label, value in values.items())
        for row, values in summary["differences"].items()
    ]


def _cell(shown: dict[str, Any], digits: int) -> str:
    if not shown["n"]:
        return f"{'-':>31}"
    ratio = f"{shown['max_over_min']:.2f}" if shown["max_over_min"] is not None else "-"
    return f"{shown['min']:>7.{digits}f} {shown['median']:>7.{digits}f} {shown['max']:>7.{digits}f} {ratio:>7}"


def render(summaries: dict[str, dict[str, Any]], scenarios: list[str]) -> str:
    """A compact table: per submission and scenario, the p95 and throughput ratios' min, median, max, max/min."""
    head = f"{'submission':<22}{'scenario':<18}{'n':>3}  {'p95 min  median     max max/min':>31}"
    lines = [head + f"  {'thr min  median     max max/min':>31}  invalid runs"]
    for name, summary in summaries.items():
        for row in [*scenarios, INDEX]:
            shown = summary["figures"][row]
            invalid = ", ".join(f"{label} ({reason})" for label, reason in shown["invalid"].items()) or "-"
            throughput = _cell(shown["throughput"], 3) if "throughput" in shown else ""
            lines.append(
                f"{name:<22}{row:<18}{shown['p95']['n']:>3}  {_cell(shown['p95'], 2)}  {throughput:>31}  {invalid}"
            )
        verdicts = "identical" if summary["verdicts_identical"] else "DIFFER: " + ", ".join(summary["differences"])
        sources: dict[str, list[str]] = {}
        for label, source in summary["reference"].items():
            if source:  # a run without a load phase has no reference; it is listed as invalid above
                sources.setdefault(source, []).append(label)
        reference = "; ".join(f"{source} in {' '.join(labels)}" for source, labels in sources.items()) or "-"
        lines.append(f"{name:<22}verdicts over {', '.join(summary['runs'])}: {verdicts}; reference run: {reference}")
    return "\n".join(lines)
