"""The bug catalogue is complete and every id leads to its whole story."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from grader.catalogue import CATALOGUE_PATH, Bug, CatalogueError, load_catalogue

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = {
    "sync-db-driver",
    "no-connection-pool",
    "missing-await",
    "cpu-bound-in-async",
    "blocking-sleep",
    "no-upstream-timeout",
    "no-upstream-retry",
    "http-client-per-request",
    "n-plus-one",
    "sync-bridge-deadlock",
    "connection-leak-on-error",
    "no-input-validation",
    "no-request-metrics",
    "resources-at-import",
    "resources-not-released",
    "notification-inline",
    "notification-lost",
    "last-unit-race",
    "lock-order-deadlock",
    "new-customer-race",
    "orphan-charge",
}


def test_catalogue_lists_every_injected_bug_once() -> None:
    """The brief's bugs (the lifespan one split into built-at-import and not-released), the two
    notification entries (off the request, and delivered) and the three races, no more, no fewer."""
    assert set(load_catalogue().ids) == EXPECTED
    assert len(load_catalogue().ids) == len(EXPECTED)


def test_every_bug_has_one_of_the_five_categories() -> None:
    """Each bug scores into one of the seed's five scorecard categories, and every category is used."""
    catalogue = load_catalogue()
    assert len(catalogue.categories) == 5
    assert {bug.category for bug in catalogue.bugs} == set(catalogue.categories)


def test_every_bug_has_a_probe_module() -> None:
    """`grader/probes/<id>.py` exists and exposes `probe`."""
    for bug in load_catalogue().bugs:
        module = importlib.import_module(f"grader.probes.{bug.module}")
        assert callable(module.probe), bug.id
        assert bug.id == module.BUG


def test_every_bug_points_at_a_file_of_the_exercise() -> None:
    """The `where` of each entry names files that exist in exercise/."""
    for bug in load_catalogue().bugs:
        paths = re.findall(r"exercise/[\w/]+\.py", bug.where)
        assert paths, bug.id
        for path in paths:
            assert (ROOT / path).is_file(), f"{bug.id}: {path}"


def test_every_bug_documents_fix_alternatives_and_detection() -> None:
    """A reviewer reading an entry learns the symptom, the detection, the fix and what else counts."""
    for bug in load_catalogue().bugs:
        for text in (bug.title, bug.symptom, bug.detection, bug.metric, bug.fix):
            assert text.strip(), bug.id
        assert bug.alternative_fixes, bug.id


def test_every_threshold_sits_between_the_exercise_and_the_solution() -> None:
    """The recorded measurements fall on either side of the threshold: the exercise present, the solution fixed."""
    for bug in load_catalogue().bugs:
        assert bug.crosses(bug.measured["exercise"]), bug.id
        assert not bug.crosses(bug.measured["solution"]), bug.id


def test_probes_report_the_metric_the_catalogue_names() -> None:
    """A probe's METRIC is the catalogue's `metric`, so reports and catalogue speak of the same number."""
    for bug in load_catalogue().bugs:
        assert bug.metric == importlib.import_module(f"grader.probes.{bug.module}").METRIC, bug.id


def test_exercise_has_no_comment_pointing_at_a_bug() -> None:
    """The flaws must look like honest mistakes: no bug id or tell-tale word in the exercise's source."""
    tells = re.compile(
        r"FIXME|TODO|XXX|HACK|bug|leak|N\+1|n\+1|blocking|deadlock|not awaited|never awaited", re.IGNORECASE
    )
    ids = load_catalogue().ids
    for path in (ROOT / "exercise").rglob("*.py"):
        text = path.read_text()
        assert not tells.search(text), f"{path}: {tells.search(text)}"
        for bug_id in ids:
            assert bug_id not in text, f"{path} names {bug_id}"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("schema_version = 1", "schema_version = 2"), "schema_version: must be one of 1, not 2"),
        (("threshold = 200\n", "thresold = 200\n"), "bug sync-db-driver: threshold: is required (is 'thresold' a"),
        (('present_when = "above"', 'present_when = "over"'), "bug sync-db-driver: present_when: must be one of"),
        (("red_flag = true\n", "red_flag = true\nredflag = 1\n"), "bug sync-db-driver: redflag: unknown field (did"),
    ],
    ids=["schema-version", "missing", "choice", "unknown"],
)
def test_a_catalogue_mistake_names_bug_and_field(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    """A wrong schema version, a typo, a value outside the choices: refused, naming the bug and the field."""
    path = tmp_path / "catalogue.toml"
    path.write_text(CATALOGUE_PATH.read_text().replace(*edit, 1))
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert str(caught.value).startswith(f"{path}: {expected}"), str(caught.value)


def test_a_weight_and_its_reason_are_optional() -> None:
    """`weight` and `weight_reason` may be given per bug; left out, they are None (every bug weighs alike)."""
    bug = load_catalogue().bugs[0]
    weighted = Bug.model_validate(bug.model_dump() | {"weight": 3, "weight_reason": "a walk-away bug"})
    assert (weighted.weight, weighted.weight_reason) == (3, "a walk-away bug")
