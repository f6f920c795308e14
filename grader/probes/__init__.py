"""One probe per catalogued bug: `grader.probes.<bug id with underscores>.probe(target) -> ProbeResult`.

A probe deploys the submission as it needs (fresh database, fresh proxy, the shared stub reset), sets the
faults, measures over real sockets and turns one number into a verdict against the catalogue's threshold.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from grader.catalogue import load_catalogue
from grader.probes._base import ProbeResult, ProbeTarget
from grader.probes._borderline import BAND, measured

Probe = Callable[[ProbeTarget], ProbeResult]


def _module(bug_id: str) -> object:
    return importlib.import_module(f"grader.probes.{load_catalogue().bug(bug_id).module}")


def probe_for(bug_id: str) -> Probe:
    probe: Probe = getattr(_module(bug_id), "probe")  # noqa: B009  # the module is chosen at run time
    return probe


def runs_in_quick(bug_id: str) -> bool:
    """Whether `--quick` runs this probe; the few that must wait out a long fault set `QUICK = False`."""
    return bool(getattr(_module(bug_id), "QUICK", True))


def band_of(bug_id: str) -> float | None:
    """The probe's borderline band (relative to its threshold): `BAND` unless the module sets its own or None."""
    relative: float | None = getattr(_module(bug_id), "BAND", BAND)
    return relative


__all__ = ["ProbeResult", "ProbeTarget", "band_of", "measured", "probe_for", "runs_in_quick"]
