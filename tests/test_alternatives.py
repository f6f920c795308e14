"""Correct submissions that fix every bug differently from the reference, and what holds for them here.

`make validate` grades each whole, right after the exercise and the solution, and fails unless every bug
is `fixed` and every contract case passes: a probe that recognises only the reference's way (SQLAlchemy,
stamina, anyio threads, a pure ASGI middleware) would mark one `present` or `inconclusive`; see
grader/proof/alternatives/README.md.
"""

from __future__ import annotations

import http.server
import threading

import httpx
import pytest
from _grading import import_bare

from grader.catalogue import load_catalogue
from grader.evidence.static import foreign_imports, ruff_findings
from grader.probes import no_request_metrics
from grader.proof.alternatives import DIRECTORY as ALTERNATIVES_DIR
from grader.validate.matrix import ALT_PREFIX, alternatives, expectations

BUG_IDS = load_catalogue().ids
NAMES = sorted(path.parent.name for path in ALTERNATIVES_DIR.glob("*/app"))


def test_there_are_three_alternatives_and_validate_grades_each() -> None:
    """At least three alternatives exist, and `make validate` has a column for each expecting every bug fixed."""
    assert len(NAMES) >= 3, NAMES
    assert alternatives() == [f"{ALT_PREFIX}{name}" for name in NAMES]
    for column in alternatives():
        assert expectations(column, list(BUG_IDS)) == dict.fromkeys(BUG_IDS, "fixed")


@pytest.mark.parametrize("name", NAMES)
def test_alternative_imports_only_allowed_packages(name: str) -> None:
    """Each alternative imports nothing the grader's environment lacks, and ruff finds no async misuse in it."""
    root = ALTERNATIVES_DIR / name
    assert [finding.as_dict() for finding in foreign_imports(root)] == []
    assert [finding.as_dict() for finding in ruff_findings(root)] == []


@pytest.mark.parametrize("name", NAMES)
def test_alternative_imports_without_environment(name: str) -> None:
    """Importing an alternative needs neither the database nor the environment: its resources come from lifespan."""
    done = import_bare(ALTERNATIVES_DIR / name)
    assert done.returncode == 0, done.stderr[-2000:]


class _Redirects(http.server.BaseHTTPRequestHandler):
    """GET /metrics redirects to `location` (as a mounted ASGI app does); any other path is the exposition."""

    location = ""

    def do_GET(self) -> None:
        if self.path == "/metrics":
            self.send_response(307)
            self.send_header("Location", self.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"# TYPE x counter\nx_total 1\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def test_metrics_scrape_follows_redirects_within_the_app_only() -> None:
    """The metrics probe follows /metrics -> /metrics/ on the app (prometheus_client's mount), never elsewhere."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Redirects)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with httpx.Client(base_url=url, timeout=5.0) as client:
            _Redirects.location = f"{url}/metrics/"
            followed = no_request_metrics._scrape(client)
            assert (followed.status_code, followed.url.path) == (200, "/metrics/")
            _Redirects.location = "http://192.0.2.1/metrics/"  # another origin (TEST-NET-1): not followed
            assert no_request_metrics._scrape(client).status_code == 307
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
