"""Scenario files: the kit's own parse, and every kind of mistake gets an error naming the file and field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.load.scenario import SCENARIO_DIR, ScenarioError, load_scenarios, parse_scenario

ROOT = Path(__file__).resolve().parents[1]

GOOD = """
name = "reads"
description = "Product pages."
model = "closed"
duration_s = 6
warmup_s = 1

[[stages]]
at_s = 0
users = 4

[faults]
db_latency_ms = 2

[[requests]]
path = "/products/{product_id}"
"""

OPEN = """
name = "arrivals"
description = "Orders on a schedule."
model = "open"
duration_s = 5
rate = 10
arrival_users = 2

[[requests]]
method = "POST"
path = "/orders"
body = "order"
api_key = true
expect = [201]
"""


def test_the_kits_scenarios_parse() -> None:
    """The shipped scenarios parse, cover both models, and include the five the kit promises."""
    scenarios = load_scenarios()
    names = {s.name for s in scenarios}
    assert {"catalogue-reads", "checkout-slow-payments", "degraded-upstream", "spike", "realistic-mix"} <= names
    assert {s.model for s in scenarios} == {"closed", "open"}
    spike = next(s for s in scenarios if s.name == "spike")
    assert len(spike.stages) >= 2
    assert spike.stages[-1].users >= 8 * spike.stages[0].users
    degraded = next(s for s in scenarios if s.name == "degraded-upstream")
    assert degraded.faults.payments_503_share > 0
    assert degraded.faults.payments_hang_share > 0


def test_a_good_scenario_keeps_its_values() -> None:
    """Defaults fill what is left out; what is given is kept exactly."""
    scenario = parse_scenario(GOOD, "reads.toml")
    assert scenario.measured_s == 5
    assert scenario.requests[0].name == "GET /products/{product_id}"
    assert scenario.requests[0].expect == (200,)
    assert scenario.faults.db_latency_ms == 2
    arrivals = parse_scenario(OPEN, "arrivals.toml")
    assert (arrivals.rate, arrivals.arrival_users, arrivals.requests[0].api_key) == (10, 2, True)


def test_faults_become_the_stubs_every_kth_request() -> None:
    """A 20 % share of 503s is every 5th charge; a 5 % share of hangs every 20th."""
    faults = "payments_503_share = 0.2\npayments_hang_share = 0.05"
    scenario = parse_scenario(GOOD.replace("db_latency_ms = 2", faults), "x.toml")
    charges = scenario.faults.stub_config()["charges"]
    assert (charges["fail_every"], charges["hang_every"], charges["failure"]) == (5, 20, "503")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (('model = "closed"', 'model = "closd"'), "reads.toml: model: must be one of closed, open"),
        (("duration_s = 6", "duraton_s = 6"), "reads.toml: duration_s: is required (is 'duraton_s' a typo of it?)"),
        (("warmup_s = 1", "warmpu_s = 1"), "reads.toml: warmpu_s: unknown field (did you mean 'warmup_s'?)"),
        (("duration_s = 6", 'duration_s = "6"'), "reads.toml: duration_s: must be a number"),
        (("warmup_s = 1", "warmup_s = 9"), "reads.toml: warmup_s: must be shorter than duration_s"),
        (("users = 4", "users = 0"), "reads.toml: stages[0].users: must be between 1 and"),
        (("users = 4", "usres = 4"), "reads.toml: stages[0].users: is required (is 'usres' a typo of it?)"),
        (("at_s = 0", "at_s = 2"), "reads.toml: stages: must start with a stage at_s = 0"),
        (("db_latency_ms = 2", "db_latency = 2"), "reads.toml: faults.db_latency: unknown field"),
        (("db_latency_ms = 2", "db_latency_ms = -1"), "reads.toml: faults.db_latency_ms: must be between 0"),
        (("{product_id}", "{product}"), "reads.toml: requests[0].path: unknown placeholder {product}"),
        (("path = ", "paht = "), "reads.toml: requests[0].path: is required (is 'paht' a typo of it?)"),
        (('name = "reads"', 'name = "Reads!"'), "reads.toml: name: must be lower-case"),
        (("[[stages]]", "[[stages"), "reads.toml: not valid TOML"),
        (('description = "Product pages."\n', ""), "reads.toml: description: is required"),
    ],
)
def test_mistakes_name_the_file_and_field(edit: tuple[str, str], expected: str) -> None:
    """Each typo or bad value is refused with the file, the field's path and the problem."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(GOOD.replace(*edit), "reads.toml")
    assert str(caught.value).startswith(expected), str(caught.value)


def test_open_model_mistakes_are_named() -> None:
    """An open scenario without a rate, or with a body that does not exist, says which field."""
    with pytest.raises(ScenarioError, match=r"arrivals.toml: rate: is required"):
        parse_scenario(OPEN.replace("rate = 10\n", ""), "arrivals.toml")
    with pytest.raises(ScenarioError, match=r"arrivals.toml: requests\[0\].body: must be one of order"):
        parse_scenario(OPEN.replace('body = "order"', 'body = "cart"'), "arrivals.toml")
    with pytest.raises(ScenarioError, match=r"arrivals.toml: requests\[0\].expect: must be a non-empty list"):
        parse_scenario(OPEN.replace("expect = [201]", "expect = [2010]"), "arrivals.toml")


def test_a_directory_of_scenarios_is_checked_as_a_set(tmp_path: Path) -> None:
    """Duplicate names, unknown --scenarios and an empty directory are refused, naming what is wrong."""
    with pytest.raises(ScenarioError, match="no scenario files"):
        load_scenarios(tmp_path)
    (tmp_path / "a.toml").write_text(GOOD)
    (tmp_path / "b.toml").write_text(GOOD)
    with pytest.raises(ScenarioError, match=r"b.toml: name: 'reads' is also the name in .*a.toml"):
        load_scenarios(tmp_path)
    (tmp_path / "b.toml").write_text(OPEN)
    assert [s.name for s in load_scenarios(tmp_path, ("arrivals",))] == ["arrivals"]
    with pytest.raises(ScenarioError, match="no scenario named 'nope'"):
        load_scenarios(tmp_path, ("nope",))
    with pytest.raises(ScenarioError, match="no such scenario directory"):
        load_scenarios(tmp_path / "missing")


def test_a_scenario_typo_stops_the_grader_before_it_starts(tmp_path: Path) -> None:
    """`grade --scenario-dir` with a typo: exit 2, one line naming file and field, no report written."""
    (tmp_path / "reads.toml").write_text(GOOD.replace("warmup_s", "warmpu_s"))
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(ROOT / "exercise"), "--scenario-dir", str(tmp_path),
         "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "reads.toml: warmpu_s: unknown field (did you mean 'warmup_s'?)" in lines[0]
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_the_default_directory_is_the_kits() -> None:
    """Scenarios live in the kit's `scenarios/` folder, as data beside the grader."""
    assert SCENARIO_DIR == ROOT / "scenarios"
    assert sorted(p.name for p in SCENARIO_DIR.glob("*.toml"))
