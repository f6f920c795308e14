"""The probes' own bookkeeping, without processes: shared measurements, per-path counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.probes._base import ProbeTarget
from grader.probes._error_paths import Path as TourPath
from grader.probes._measure import Samples, Shared, answers


def _target() -> ProbeTarget:
    return ProbeTarget(app_dir=Path("/nonexistent"), infra=None)  # type: ignore[arg-type]  # never deployed


def _samples(count: int) -> Samples:
    samples = Samples()
    for _ in range(count):
        samples.add(0.0, 200)
    return samples


def test_shared_measures_once_per_target_for_all_its_members() -> None:
    """The first member to ask measures; the other gets the same result without measuring again."""
    calls: list[ProbeTarget] = []
    shared = Shared(("a", "b"), lambda target: calls.append(target) or len(calls))
    target = _target()
    assert shared.get(target, "a") == 1
    assert shared.get(target, "b") == 1
    assert calls == [target]


def test_shared_never_reuses_a_result_for_another_target() -> None:
    """Another grade (another target) gets its own measurement."""
    shared = Shared(("a", "b"), id)
    first, second = _target(), _target()
    assert shared.get(first, "a") == id(first)
    assert shared.get(second, "a") == id(second)


def test_shared_forgets_a_result_once_every_member_has_read_it() -> None:
    """Nothing is kept after both probes have their result: asking again measures again."""
    calls: list[int] = []
    shared = Shared(("a", "b"), lambda _: calls.append(1) or len(calls))
    target = _target()
    shared.get(target, "a")
    shared.get(target, "b")
    assert shared.get(target, "a") == 2


def test_a_member_asking_again_gets_a_fresh_measurement() -> None:
    """A borderline re-measurement of one probe measures anew; the others' shared reading is untouched."""
    calls: list[int] = []
    shared = Shared(("a", "b"), lambda _: calls.append(1) or len(calls))
    target = _target()
    assert shared.get(target, "a") == 1
    assert shared.get(target, "a") == 2  # "a" again: its own new reading
    assert shared.get(target, "b") == 1  # "b" still reads the one shared with "a"


@pytest.mark.parametrize(
    ("opened", "concurrency", "requests", "expected"),
    [(0, 1, 10, 0.0), (10, 1, 10, 100.0), (3, 3, 3, 0.0), (9, 3, 3, 200.0)],
)
def test_new_connections_per_100_allow_a_pool_to_grow_by_one_per_concurrent_request(
    opened: int, concurrency: int, requests: int, expected: float
) -> None:
    """Sequential paths count every new connection; concurrent ones first let a pool grow by one each."""
    path = TourPath("path", 200, concurrency, _samples(requests), opened=opened)
    assert path.new_per_100 == expected


def test_a_leak_is_counted_once_when_both_checks_see_it() -> None:
    """A connection idle in a transaction is also one the last burst never lent: the larger count stands."""
    path = TourPath("409 stock-out", 409, idle_in_transaction=4, left_checked_out=3)
    assert path.leaked == 4


def test_answers_name_statuses_and_transport_errors() -> None:
    """A message shows what came back, and transport errors only when there were any."""
    samples = _samples(2)
    assert answers(samples) == "{200: 2}"
    samples.add(0.0, None, "ReadTimeout")
    assert answers(samples) == "{200: 2} and errors {'ReadTimeout': 1}"
