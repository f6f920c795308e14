"""report.html, rendered by a real headless Chromium: charts drawn, invalid runs marked, untrusted text inert."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from _browser import Browser, Layout, chromium, pixels_near

from grader.pipeline import write_reports
from grader.report import _charts, html
from grader.report.model import Report as ReportModel

SAMPLE = Path(__file__).parent / "data" / "report.json"  # a real grade's report, trimmed to two scenarios
LINE_CHARTS = ("spectrum", "throughput", "p95")
Report = dict[str, Any]
DRAWN = 400  # pixels of one series' colour in a chart: a drawn line has thousands, a blank chart none


@pytest.fixture
def report() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    return data


@pytest.fixture
def browser(tmp_path: Path) -> Browser:
    profile = tmp_path / "chromium"
    profile.mkdir()
    return Browser(chromium(), profile)


def _page(tmp_path: Path, report: dict[str, Any]) -> Path:
    page = tmp_path / "report.html"
    page.write_text(html.render(ReportModel.model_validate(report)), encoding="utf-8")
    return page


def _render(browser: Browser, page: Path) -> tuple[Layout, Any]:
    layout = browser.layout(page)
    return layout, browser.screenshot(page, height=layout.height)


def test_every_chart_is_drawn_with_candidate_and_reference(tmp_path: Path, browser: Browser, report: Report) -> None:
    """Each scenario's spectrum, throughput and p95 charts show both series' lines; the status chart its bars."""
    layout, shot = _render(browser, _page(tmp_path, report))
    scenarios = len(report["load"]["scenarios"])
    assert len(layout.charts) == 4 * scenarios
    for number in range(scenarios):
        for kind in LINE_CHARTS:
            box = layout.charts[f"chart-{number}-{kind}"]
            assert (box[2] - box[0], box[3] - box[1]) == (520, 250), (kind, box)  # on screen, full size
            assert pixels_near(shot, box, _charts.CANDIDATE) > DRAWN, (number, kind)
            assert pixels_near(shot, box, _charts.REFERENCE) > DRAWN, (number, kind)
        assert pixels_near(shot, layout.charts[f"chart-{number}-statuses"], _charts.CANDIDATE) > DRAWN


def test_without_a_reference_only_the_candidate_is_drawn(tmp_path: Path, browser: Browser, report: Report) -> None:
    """--reference none: candidate lines drawn, not one pixel in the reference's colour, and the page says why."""
    report["load"]["reference"] = {"source": "none", "note": "no reference run (--reference none): no ratios"}
    report["load"]["index"] = {"throughput": None, "p50": None, "p95": None, "p99": None, "scenarios": 0}
    for scenario in report["load"]["scenarios"]:
        scenario |= {"reference": None, "ratios": None}
        scenario.pop("reference_valid", None)
    page = _page(tmp_path, report)
    layout, shot = _render(browser, page)
    for name, box in layout.charts.items():
        assert pixels_near(shot, box, _charts.REFERENCE) == 0, name
        if not name.endswith("statuses"):
            assert pixels_near(shot, box, _charts.CANDIDATE) > DRAWN, name
    dom = browser.dump_dom(page)
    assert "No reference run for this scenario: no ratios." in dom
    assert "no index: no valid scenario has a reference" in dom


def test_an_invalid_run_is_marked_visibly(tmp_path: Path, browser: Browser, report: Report) -> None:
    """An invalid scenario gets the INVALID badge, its reasons in a banner, and a red dashed frame on screen."""
    reason = "the load generator was saturated: 97% CPU (limit 90%)"
    report["load"]["scenarios"][1] |= {"valid": False, "invalid_reasons": [reason]}
    page = _page(tmp_path, report)
    dom = browser.dump_dom(page)
    sections = re.findall(r'<section class="scenario([^"]*)" id="scenario-(\d)">', dom)
    assert sections == [("", "0"), (" invalid", "1")]
    invalid = dom.split('id="scenario-1"', 1)[1]
    assert "INVALID" in invalid.split("</h3>", 1)[0]
    assert reason in invalid
    layout, shot = _render(browser, page)

    def margin(chart: str) -> tuple[int, int, int, int]:
        """The strip left of a scenario's first chart, up its side: only the scenario's frame is drawn there."""
        left, top, _, bottom = layout.charts[chart]
        return (0, top - 300, left - 4, bottom)

    assert pixels_near(shot, margin("chart-1-spectrum"), "#c62828") > 150
    assert pixels_near(shot, margin("chart-0-spectrum"), "#c62828") == 0


def test_untrusted_text_is_escaped(tmp_path: Path, browser: Browser, report: Report) -> None:
    """A submission's name, messages and evidence reach the page as text: no tag, no script runs."""
    attack = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"
    report["submission"]["name"] = attack
    report["bugs"][0] |= {"message": "</td></tr></table><h1 id=injected>x</h1>", "evidence": {"<b id=e>": attack}}
    report["red_flags"] = [{"id": "contract", "title": attack, "message": ""}]
    report["environment"]["sandbox"] = "<i id=sandboxed>unprivileged</i>"
    report["load"]["scenarios"][0]["candidate"]["endpoints"]["<svg id=s onload=alert(1)>"] = copy.deepcopy(
        report["load"]["scenarios"][0]["candidate"]["endpoints"]["all requests"]
    )
    page = _page(tmp_path, report)
    text = page.read_text()
    for tag in ("<script", "<img", "<h1 id=injected", "<svg id=s", "<b id=e", "<i id=sandboxed"):
        assert tag not in text, tag
    dom = browser.dump_dom(page)
    assert "<title>Grade: &lt;img" in dom  # the title kept as text: no script rewrote it to "pwned"
    for injected in ('id="injected"', 'id="e"', 'id="s"', 'id="sandboxed"'):
        assert injected not in dom, injected


def test_the_header_says_how_the_app_was_confined(report: Report) -> None:
    """The sandbox line of report.json's environment is in the header, escaped; an older report has none."""
    sandbox = "unprivileged account kit_app, resource limits; private mount namespace: private /tmp & <dev/shm>"
    report["environment"]["sandbox"] = sandbox
    header = html.render(ReportModel.model_validate(report)).split("</header>", 1)[0]
    assert '<p class="meta" id="sandbox">sandbox: unprivileged account kit_app, resource limits; private' in header
    assert "private /tmp &amp; &lt;dev/shm&gt;</p>" in header
    del report["environment"]["sandbox"]
    assert 'id="sandbox"' not in html.render(ReportModel.model_validate(report))


def test_the_page_is_self_contained(tmp_path: Path, report: Report) -> None:
    """Nothing to fetch: no URL, no script, no stylesheet link, no external font or image."""
    text = html.render(ReportModel.model_validate(report))
    for needle in ("http://", "https://", "<script", "<link", "src=", "url(", "@import", "@font-face"):
        assert needle not in text, needle


def test_errored_grade_with_skipped_load_renders(tmp_path: Path, browser: Browser, report: Report) -> None:
    """status "error": no score, no contract, load skipped, unmeasured values; the page says each plainly."""
    report |= {
        "status": "error",
        "error": "the app does not start: ModuleNotFoundError",
        "score": None,
        "contract": None,
        "load": {"status": "skipped", "reason": "the app does not start"},
    }
    for bug in report["bugs"]:
        bug |= {"verdict": "inconclusive", "value": None, "evidence": {}}
    dom = browser.dump_dom(_page(tmp_path, report))
    assert "No grade could be produced:</b> the app does not start: ModuleNotFoundError" in dom
    assert "no score: the grade did not complete" in dom
    assert "<h2>Contract</h2><p>Not run.</p>" in dom
    assert "the app does not start</p></section>" in dom
    assert 'class="chart"' not in dom
    assert dom.count("(not measured)") == len(report["bugs"])


def test_write_reports_writes_report_html(tmp_path: Path, report: Report) -> None:
    """The grade's report writer puts report.html beside report.json."""
    write_reports(ReportModel.model_validate(report), tmp_path / "out")
    written = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert written == html.render(ReportModel.model_validate(report))
    assert written.startswith("<!DOCTYPE html>")
