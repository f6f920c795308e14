"""The reference run's cache: reused only for the same machine and kit, never across a change."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.load import calibration, load_scenarios


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(calibration, "CACHE_DIR", tmp_path / "cache")
    return tmp_path / "cache"


def test_a_cached_run_is_reused_for_the_same_machine_and_kit() -> None:
    """Stored, then asked for with the same fingerprint and kit version: the same runs come back."""
    machine, kit = calibration.fingerprint(), calibration.kit_version(load_scenarios(), workers=1)
    record = calibration.store(machine, kit, {"spike": {"figures": {"valid": True}}})
    cached = calibration.load_cached(machine, kit)
    assert cached is not None
    assert cached["runs"] == {"spike": {"figures": {"valid": True}}}
    assert cached["created_at"] == record["created_at"]


def test_a_change_of_kit_or_machine_misses_the_cache() -> None:
    """Other scenarios, another worker count or another machine never reuse a run."""
    scenarios = load_scenarios()
    machine, kit = calibration.fingerprint(), calibration.kit_version(scenarios, workers=1)
    calibration.store(machine, kit, {})
    assert calibration.load_cached(machine, calibration.kit_version(scenarios[:2], workers=1)) is None
    assert calibration.load_cached(machine, calibration.kit_version(scenarios, workers=2)) is None
    assert calibration.load_cached({**machine, "cpu_model": "another"}, kit) is None


def test_a_damaged_cache_file_is_ignored(private_cache: Path) -> None:
    """A cache file that is not JSON, or whose record does not match its key, is not used."""
    machine, kit = calibration.fingerprint(), calibration.kit_version(load_scenarios(), workers=1)
    calibration.store(machine, kit, {})
    (path,) = private_cache.glob("*.json")
    path.write_text("{not json")
    assert calibration.load_cached(machine, kit) is None
    path.write_text('{"format": 1, "fingerprint": {}, "kit": {}, "runs": {}}')
    assert calibration.load_cached(machine, kit) is None


def test_the_kit_version_follows_the_reference_solution() -> None:
    """The reference app's content is part of the kit version: editing the solution invalidates the cache."""
    kit = calibration.kit_version(load_scenarios(), workers=1)
    assert set(kit) >= {"grader", "scenarios", "reference_app", "load_code", "packages", "workers"}
    assert len(kit["reference_app"]) == 16
