"""validate's repeatability and time budget, on made-up grade results: nothing here grades anything."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grader.validate import repeat as _repeat
from grader.validate.budget import DEFAULT_GRADE_S, Budget, skipped_text
from grader.validate.matrix import Column, main, plan, repeatability, run_plan

BUGS = ["sync-db-driver", "n-plus-one"]
SCENARIOS = ["catalogue-reads", "spike"]


def _load(p95: dict[str, float], valid: dict[str, bool] | None = None, source: str = "cached") -> dict[str, Any]:
    """A report.json load section with whole-scenario ratios; the index over the valid scenarios."""
    valid = valid or {}
    entries: list[dict[str, Any]] = [
        {
            "name": name,
            "valid": valid.get(name, True),
            "invalid_reasons": [] if valid.get(name, True) else ["error rate 40% (over 5%)"],
            "ratios": {_repeat.TOTAL: {"throughput": round(1 / ratio, 3), "p50": ratio, "p95": ratio, "p99": ratio}},
        }
        for name, ratio in p95.items()
    ]
    counted = [e for e in entries if e["valid"]]
    index = 1.0
    for entry in counted:
        index *= entry["ratios"][_repeat.TOTAL]["p95"] ** (1 / len(counted))
    return {
        "status": "ran",
        "reference": {"source": source},
        "index": {"p95": round(index, 3), "scenarios": len(counted)},
        "scenarios": entries,
    }


class Clock:
    """A clock that only moves when a fake grade says it took time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _grader(clock: Clock, seconds: dict[str, float]) -> Any:
    def grade(column: Column) -> None:
        column.seconds = seconds[column.kind]
        clock.now += column.seconds
        column.verdicts = dict(column.expected)
        column.contract = {"passed": 30, "failed": 0}

    return grade


def test_without_a_budget_every_grade_runs() -> None:
    """No --budget: the planner never stops, however long the grades take."""
    budget = Budget(None)
    budget.record("matrix", 10_000.0)
    assert budget.allows("matrix", 1e9)
    assert budget.allows("repeat", 1e9)


def test_estimate_is_the_longest_of_its_kind_else_the_longest_plus_the_kinds_extra() -> None:
    """Before any grade the default; a new kind: the longest so far plus its extra; then its own longest."""
    budget = Budget(3600, extra={"repeat": 80.0})
    assert budget.estimate("matrix") == DEFAULT_GRADE_S
    assert budget.estimate("repeat") == DEFAULT_GRADE_S + 80.0
    for seconds in (60.0, 110.0, 70.0):
        budget.record("matrix", seconds)
    assert budget.estimate("matrix") == 110.0
    assert budget.estimate("repeat") == 190.0
    budget.record("repeat", 150.0)
    assert budget.estimate("repeat") == 150.0


def test_the_budget_stops_before_the_grade_that_would_pass_it_and_stays_stopped() -> None:
    """Once a grade would not fit, nothing after it runs either, even a shorter kind that would fit."""
    budget = Budget(250, extra={"repeat": 200.0})
    assert budget.allows("matrix", 0.0)
    budget.record("matrix", 100.0)
    assert budget.allows("matrix", 100.0)  # 100 + 100 <= 250
    budget.record("matrix", 100.0)
    assert not budget.allows("repeat", 200.0)  # 200 + 300 > 250
    assert not budget.allows("matrix", 0.0)


def test_run_plan_grades_a_prefix_and_marks_the_rest_not_run_without_failing() -> None:
    """Matrix, then repeats round by round; past the budget the rest are `not run`, with no problems."""
    columns = plan(["exercise", "solution", *BUGS], BUGS, repeat=2, repeat_on=["exercise", "n-plus-one"])
    assert [c.label for c in columns] == [
        "exercise", "solution", "sync-db-driver", "n-plus-one",
        "exercise r1", "n-plus-one r1", "exercise r2", "n-plus-one r2",
    ]  # fmt: skip
    clock = Clock()
    budget = Budget(650, extra={"repeat": 50.0})
    said: list[str] = []
    run_plan(columns, budget, _grader(clock, {"matrix": 100.0, "repeat": 160.0}), clock=clock, say=said.append)
    assert said[-1] == "budget: 90 s left and n-plus-one r1 would take about 160 s: it and the 2 after it are not run"
    ran = [c.label for c in columns if not c.skipped]
    assert ran == ["exercise", "solution", "sync-db-driver", "n-plus-one", "exercise r1"]  # 400 + 160 + 160 > 650
    assert all(not c.problems for c in columns)
    skipped = [c for c in columns if c.skipped]
    assert {c.contract_text for c in skipped} == {"skip"}
    line = skipped_text([c.label for c in skipped], sum(budget.estimate(c.kind) for c in skipped), 650)
    assert line.startswith("NOT RUN (budget 650 s): 3 grade(s), about 8 min")
    assert "n-plus-one r2" in line


def test_identical_runs_have_no_differences() -> None:
    """The same verdicts, contract and outcome in every run: nothing to report."""
    runs = [_repeat.Run(label, {"n-plus-one": "present", "sync-db-driver": "fixed"}, "30/30") for label in "abc"]
    assert _repeat.differences(runs) == {}


def test_a_verdict_that_changes_between_runs_is_a_difference_named_by_bug() -> None:
    """One bug flips in one run: that bug's row, with every run's verdict, and a problem line for it."""
    runs = [
        _repeat.Run("matrix", {"n-plus-one": "present", "sync-db-driver": "fixed"}, "30/30", measured=False),
        _repeat.Run("r1", {"n-plus-one": "present", "sync-db-driver": "fixed"}, "30/30"),
        _repeat.Run("r2", {"n-plus-one": "present", "sync-db-driver": "present"}, "30/30"),
    ]
    found = _repeat.differences(runs)
    assert found == {"sync-db-driver": {"matrix": "fixed", "r1": "fixed", "r2": "present"}}
    summary = _repeat.summarise(runs, SCENARIOS)
    assert not summary["verdicts_identical"]
    assert _repeat.problems("n-plus-one", summary) == [
        "repeat n-plus-one: sync-db-driver: matrix fixed, r1 fixed, r2 present"
    ]


def test_a_failed_grade_differs_in_its_outcome_its_contract_and_its_missing_verdicts() -> None:
    """A run whose grade failed shows `-` for the verdicts it lacks, and differs in `grade` and `contract`."""
    runs = [
        _repeat.Run("r1", {"n-plus-one": "present"}, "30/30"),
        _repeat.Run("r2", {}, "not run", error="infrastructure failed"),
    ]
    found = _repeat.differences(runs)
    assert found["n-plus-one"] == {"r1": "present", "r2": "-"}
    assert found["grade"] == {"r1": "ok", "r2": "failed"}
    assert found["contract"] == {"r1": "30/30", "r2": "not run"}


def test_spread_gives_min_median_max_and_their_ratio() -> None:
    """Three ratios: the extremes, the middle one and max/min; none: all empty."""
    assert _repeat.spread([2.0, 1.0, 1.5]) == {"n": 3, "min": 1.0, "median": 1.5, "max": 2.0, "max_over_min": 2.0}
    assert _repeat.spread([]) == {"n": 0, "min": None, "median": None, "max": None, "max_over_min": None}


def test_an_invalid_scenario_run_is_listed_not_counted_and_voids_that_runs_index() -> None:
    """A run whose spike is invalid adds nothing to spike's figures or to the index; it is listed with its reason."""
    runs = [
        _repeat.Run("r1", {}, "30/30", load=_load({"catalogue-reads": 1.0, "spike": 2.0})),
        _repeat.Run("r2", {}, "30/30", load=_load({"catalogue-reads": 1.2, "spike": 9.0}, valid={"spike": False})),
        _repeat.Run("r3", {}, "30/30", load=_load({"catalogue-reads": 1.1, "spike": 2.5})),
    ]
    figures = _repeat.summarise(runs, SCENARIOS)["figures"]
    assert figures["catalogue-reads"]["p95"] == {"n": 3, "min": 1.0, "median": 1.1, "max": 1.2, "max_over_min": 1.2}
    assert figures["spike"]["p95"]["n"] == 2
    assert figures["spike"]["p95"]["max"] == 2.5
    assert figures["spike"]["throughput"]["min"] == 0.4  # 1/2.5
    assert figures["spike"]["invalid"] == {"r2": "error rate 40% (over 5%)"}
    assert figures[_repeat.INDEX]["p95"]["n"] == 2
    assert figures[_repeat.INDEX]["invalid"] == {"r2": "over 1 of 2 scenarios"}
    table = _repeat.render({"solution": _repeat.summarise(runs, SCENARIOS)}, SCENARIOS)
    assert "r2 (error rate 40% (over 5%))" in table
    assert "verdicts over r1, r2, r3: identical" in table


def test_a_run_without_a_load_phase_is_invalid_everywhere() -> None:
    """A repeat whose load phase was skipped or failed counts in no figure and says why."""
    found = _repeat.sample({"status": "skipped", "reason": "the app does not start"}, SCENARIOS)
    assert found.ratios == {}
    assert found.invalid == dict.fromkeys([*SCENARIOS, _repeat.INDEX], "the app does not start")
    assert _repeat.sample(None, SCENARIOS).invalid["spike"] == "the load phase did not run"


def test_repeatability_joins_the_matrix_grade_for_verdicts_only() -> None:
    """The matrix's grade (no load) is compared for verdicts; figures come from the repeats; skipped ones are out."""
    columns = plan(["exercise", "n-plus-one"], BUGS, repeat=3, repeat_on=["n-plus-one"])
    for column in columns:
        column.verdicts = dict(column.expected)
        column.contract = {"passed": 30, "failed": 0}
        if column.repeat:
            column.load = _load({"catalogue-reads": 1.0 + column.repeat / 10, "spike": 2.0})
    columns[-1].skipped = "not run (budget)"
    columns[-2].verdicts["sync-db-driver"] = "present"
    summaries = repeatability(columns, SCENARIOS)
    assert list(summaries) == ["n-plus-one"]
    summary = summaries["n-plus-one"]
    assert summary["runs"] == ["matrix", "r1", "r2"]
    assert summary["differences"] == {"sync-db-driver": {"matrix": "fixed", "r1": "fixed", "r2": "present"}}
    assert summary["figures"]["catalogue-reads"]["p95"]["n"] == 2
    assert summary["reference"] == {"r1": "cached", "r2": "cached"}


def test_a_zero_budget_runs_nothing_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--budget 0: every grade is reported not run, matrix.json says incomplete, the exit status is 0."""
    assert main(["--only", "exercise", "--repeat", "1", "--budget", "0", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "NOT RUN (budget 0 s): 2 grade(s)" in printed
    matrix = json.loads((tmp_path / "matrix.json").read_text())
    assert matrix["ok"] is True
    assert matrix["complete"] is False
    assert matrix["budget"]["not_run"] == ["exercise", "exercise r1"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--repeat-on", "nope"], "error: --repeat-on: unknown submission(s): nope;"),
        (["--only", "nope"], "error: --only: unknown submission(s): nope;"),
        (["--budget", "-1"], "error: --budget must be 0 or more seconds"),
        (["--repeat", "-1"], "error: --repeat must be 0 or more"),
        (["--repeat-scenarios", "nope"], "error: --repeat-scenarios: no scenario named 'nope'"),
    ],
)
def test_bad_arguments_get_a_one_line_error(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown names and negative numbers: exit 2 with one line on stderr, before anything is graded."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_a_malformed_number_gets_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--budget soon: argparse's own complaint, as one line and exit code 2, no traceback."""
    with pytest.raises(SystemExit) as ended:
        main(["--budget", "soon"])
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: argument --budget: invalid float value: 'soon'")
    assert err.count("\n") == 1
