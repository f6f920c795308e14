"""Submission sources: a directory, a tarball, a git repository; anything else refused in one line."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from grader.runner.sources import resolve
from grader.runner.submission import SubmissionError


def _app(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text("app = None\n")
    return root


def _tarball(path: Path, members: dict[str, bytes], *, link: tuple[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(link[0])
            info.type, info.linkname = tarfile.SYMTYPE, link[1]
            tar.addfile(info)
    return path


def test_a_directory_is_used_as_it_is(tmp_path: Path) -> None:
    """A directory holding app/main.py is the submission itself."""
    with resolve(str(_app(tmp_path / "sub"))) as source:
        assert source.kind == "directory"
        assert source.root == (tmp_path / "sub").resolve()


def test_a_tarball_with_one_top_directory_is_unpacked_and_cleaned_up(tmp_path: Path) -> None:
    """kit/app/main.py inside the archive: the kit directory is the submission; the unpacked copy goes away."""
    archive = _tarball(tmp_path / "kit.tar.gz", {"kit/app/__init__.py": b"", "kit/app/main.py": b"app = None\n"})
    with resolve(str(archive)) as source:
        assert source.kind == "tarball"
        assert (source.root / "app" / "main.py").read_text() == "app = None\n"
        unpacked = source.root
    assert not unpacked.exists()


@pytest.mark.parametrize(
    ("members", "link"),
    [
        ({"../escape/app/main.py": b"x"}, None),
        ({"/abs/app/main.py": b"x"}, None),
        ({"kit/app/main.py": b"x"}, ("kit/app/secret", "/etc/passwd")),
    ],
    ids=["dot-dot", "absolute", "link-outside"],
)
def test_a_tarball_escaping_its_directory_is_refused(
    tmp_path: Path, members: dict[str, bytes], link: tuple[str, str] | None
) -> None:
    """Entries that would land outside the unpack directory are refused, never written."""
    archive = _tarball(tmp_path / "evil.tar.gz", members, link=link)
    with pytest.raises(SubmissionError, match="refused"), resolve(str(archive)):
        pass
    assert not (tmp_path / "escape").exists()


def test_a_file_that_is_not_a_tarball_is_refused(tmp_path: Path) -> None:
    """A clear one-line reason."""
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    with pytest.raises(SubmissionError, match="not a readable tar archive") as caught, resolve(str(bogus)):
        pass
    assert "\n" not in str(caught.value)


def test_a_git_repository_is_cloned_at_its_committed_state(tmp_path: Path) -> None:
    """A repository path is cloned: uncommitted scribbles in its work tree are not graded."""
    repo = _app(tmp_path / "repo")
    git = ["git", "-c", "user.email=c@example.org", "-c", "user.name=Candidate", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "submission"], check=True)
    (repo / "app" / "main.py").write_text("uncommitted = True\n")
    with resolve(str(repo)) as source:
        assert source.kind == "git"
        assert (source.root / "app" / "main.py").read_text() == "app = None\n"


def test_a_git_url_that_cannot_be_cloned_is_refused(tmp_path: Path) -> None:
    """The reason from git, on one line."""
    with pytest.raises(SubmissionError, match="cannot clone"), resolve(f"file://{tmp_path}/missing.git"):
        pass


def test_a_missing_path_is_refused() -> None:
    """No such file or directory."""
    with pytest.raises(SubmissionError, match="no such file"), resolve("/nonexistent/submission"):
        pass
