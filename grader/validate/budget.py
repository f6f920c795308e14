"""A time budget for a run of grades: run the next one only while it would likely still fit.

Grades run in a fixed order; before each one the planner estimates how long it will take from the
grades of the same kind seen so far (the longest, so a slow one is not forgotten) and stops once the
elapsed time plus that estimate would pass the budget. Everything after the first grade that does not
fit is left out too, so what ran is always a prefix of the plan and the report can say what was not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_GRADE_S = 100.0  # before any grade has run: a grade without load takes 60-110 s on a 2-core machine


@dataclass
class Budget:
    """`seconds` None: no limit. `extra[kind]`: what a grade of `kind` adds to a plain one before one is seen."""

    seconds: float | None
    extra: dict[str, float] = field(default_factory=dict)
    seen: dict[str, list[float]] = field(default_factory=dict)
    stopped: bool = False

    def estimate(self, kind: str) -> float:
        """The longest grade of this kind so far; else the longest of any kind (or the default) plus its extra."""
        if same := self.seen.get(kind):
            return max(same)
        everything = [s for durations in self.seen.values() for s in durations]
        return (max(everything) if everything else DEFAULT_GRADE_S) + self.extra.get(kind, 0.0)

    def allows(self, kind: str, elapsed: float) -> bool:
        """Whether the next grade (of `kind`, `elapsed` seconds into the run) should run; once no, always no."""
        if self.seconds is None:
            return True
        if not self.stopped and elapsed + self.estimate(kind) > self.seconds:
            self.stopped = True
        return not self.stopped

    def record(self, kind: str, seconds: float) -> None:
        self.seen.setdefault(kind, []).append(seconds)


def skipped_text(skipped: list[str], estimated_s: float, budget_s: float | None) -> str:
    """One line for the end of the run: how much the budget left out (empty when nothing was)."""
    if not skipped:
        return ""
    shown = ", ".join(skipped[:8]) + (f" and {len(skipped) - 8} more" if len(skipped) > 8 else "")
    return (
        f"NOT RUN (budget {budget_s:.0f} s): {len(skipped)} grade(s), about {estimated_s / 60:.0f} min by the "
        f"durations seen: {shown}"
    )
