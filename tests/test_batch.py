"""A cohort graded in a batch: progress per candidate, resumable, a failure does not stop it, and it ends
with the comparison (similarity included), each candidate's guide and feedback, pages that render offline."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from _browser import Browser, chromium
from _cohort import ROOT, make_cohort
from _grading import leftovers, private_tempdir

from grader.catalogue import load_catalogue
from grader.kit.leaks import find_leaks, forbidden

pytestmark = pytest.mark.slow
GRADE = ["--quick", "--only", "no-input-validation"]  # one cheap probe each: the batch is what is tested
DEADLINE_S = 480


def _batch(out: Path, private_tmp: Path, *submissions: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "grader.batch", *submissions, "--out", str(out), "--", *GRADE],
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        cwd=ROOT,
        env=os.environ | {"TMPDIR": str(private_tmp)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    where = tmp_path_factory.mktemp("cohort")
    apps = make_cohort(where / "apps")
    carol = where / "carol.tar.gz"
    with tarfile.open(carol, "w:gz") as archive:
        archive.add(apps["carol"], arcname="carol")
    listing = where / "more.txt"
    listing.write_text(f"# one per line\n{apps['dave']}\n{where / 'not-an-app'}\n")
    (where / "not-an-app").mkdir()
    out = where / "out"
    with private_tempdir("batch-") as private_tmp:
        first = _batch(out, private_tmp, str(apps["alice"]), str(apps["bob"]), str(carol), str(listing))
        assert leftovers(private_tmp) == set(), "the batch left something behind"
    return {"out": out, "first": first, "apps": apps, "sources": [apps["alice"], apps["bob"], carol, listing]}


def test_one_progress_line_per_candidate_and_a_failure_does_not_stop_it(cohort: dict) -> None:
    """Five candidates, five numbered lines; the one that cannot be graded says why, the rest are graded."""
    lines = [line for line in cohort["first"] if re.match(r"\[\d/5\] ", line)]
    assert len(lines) == 5, cohort["first"]
    assert sum("graded, score" in line for line in lines) == 4
    [failed] = [line for line in lines if "FAILED" in line]
    assert "not-an-app" in failed
    assert "app/main.py" in failed


def test_the_comparison_ranks_the_copies_first(cohort: dict) -> None:
    """compare.md's similarity table opens with the two copied pairs, flagged; the independent one is not."""
    table = (cohort["out"] / "compare" / "compare.md").read_text().split("## Similarity", 1)[1]
    rows = [line for line in table.splitlines() if "↔" in line and line.startswith("|")]
    top = {frozenset(re.findall(r"(alice|bob|carol|reference solution)", row)) for row in rows[:2]}
    assert top == {frozenset({"alice", "bob"}), frozenset({"carol", "reference solution"})}
    assert all("review suggested" in row for row in rows[:2])
    assert not any("dave" in row and "review suggested" in row for row in rows)


def test_feedback_of_every_candidate_passes_the_leak_check(cohort: dict, tmp_path: Path) -> None:
    """What a candidate may see names nothing hidden: the kit's own leak check, on every feedback page."""
    for name in ("alice", "bob", "carol", "dave"):
        for page in ("feedback.md", "feedback.html"):
            (tmp_path / f"{name}-{page}").write_text((cohort["out"] / name / page).read_text())
    assert find_leaks(tmp_path, forbidden(ROOT)) == []


def test_the_guide_shows_notes_history_and_a_question_per_bug(cohort: dict) -> None:
    """alice's guide quotes her NOTES.md, counts her three commits and asks about every catalogued bug."""
    guide = (cohort["out"] / "alice" / "guide.md").read_text()
    assert "blocking back-off with asyncio.sleep" in guide
    assert "3 commits from" in guide
    report = json.loads((cohort["out"] / "alice" / "report.json").read_text())
    assert [b["id"] for b in report["guide"]["bugs"]] == [b.id for b in load_catalogue().bugs]
    assert all(b["question"] for b in report["guide"]["bugs"])


def test_a_finished_batch_is_not_graded_again(cohort: dict, tmp_path: Path) -> None:
    """Run again, every graded candidate is kept as it was; a removed report is graded anew."""
    (cohort["out"] / "bob" / "report.json").unlink()
    sources = [str(s) for s in cohort["sources"]]
    with private_tempdir("batch-") as private_tmp:
        again = _batch(cohort["out"], private_tmp, *sources)
    kept = [line for line in again if "already graded" in line]
    assert len(kept) == 3
    assert not any("bob" in line for line in kept)
    assert any(line.startswith("[2/5] bob: graded") for line in again)


def test_the_pages_render_offline_with_nothing_run(cohort: dict, tmp_path: Path) -> None:
    """The comparison, a report with its guide and the feedback open in Chromium, fetch nothing, run nothing."""
    browser = Browser(chromium(), tmp_path / "profile")
    (tmp_path / "profile").mkdir()
    out = cohort["out"]
    for page in (out / "compare" / "compare.html", out / "alice" / "report.html", out / "alice" / "feedback.html"):
        dom = browser.dump_dom(page)
        assert "</section>" in dom or "</ul>" in dom, page
        assert not re.search(r"""<(?:img|script|link|iframe)\b|\b(?:src|href)=["']?https?:""", dom), page
        assert "<title>owned</title>" not in dom  # the script in alice's NOTES.md never ran
