"""One probe per catalogued bug: `grader.probes.<bug id with underscores>.probe(target) -> ProbeResult`.

A probe deploys the submission as it needs (fresh database, fresh proxy, the shared stub reset), sets the
faults, measures over real sockets and turns one number into a verdict against the catalogue's threshold.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from grader.catalogue import load_catalogue
from grader.probes._base import ProbeResult, ProbeTarget

Probe = Callable[[ProbeTarget], ProbeResult]


def probe_for(bug_id: str) -> Probe:
    module = importlib.import_module(f"grader.probes.{load_catalogue().bug(bug_id).module}")
    probe: Probe = module.probe
    return probe


__all__ = ["ProbeResult", "ProbeTarget", "probe_for"]
