"""Build the candidate kit: `python -m grader.kit build [--git] [--out dist] [--root REPO]`.

Writes OUT/candidate-kit/ and OUT/candidate-kit.tar.gz (with --git, the directory is also a fresh
one-commit git repository). The kit is assembled aside and checked for leaks of the hidden set first;
when any is found nothing is written, every leak is printed as `kit path:line: what (from source)`, and
the exit status is 1.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from grader.kit._files import KitFile, LayoutError
from grader.kit._layout import kit_files
from grader.kit._publish import make_git_repository, write_tarball, write_tree
from grader.kit.leaks import Forbidden, Leak, find_leaks, forbidden

KIT_NAME = "candidate-kit"
REPO_ROOT = Path(__file__).resolve().parents[2]
LEAKED = 1
UNBUILDABLE = 2


@dataclass(frozen=True)
class Build:
    directory: Path
    tarball: Path
    files: list[KitFile]
    rules: Forbidden
    leaks: list[Leak]

    @property
    def ok(self) -> bool:
        return not self.leaks


def build(root: Path = REPO_ROOT, out: Path = REPO_ROOT / "dist", *, git: bool = False) -> Build:
    """Assemble, check and (when clean) publish the kit; a leaky kit leaves nothing behind."""
    directory, tarball = out / KIT_NAME, out / f"{KIT_NAME}.tar.gz"
    staging = out / f".{KIT_NAME}.staging"
    # A kit from an earlier build must not outlive a failed one: it could be sent by mistake.
    shutil.rmtree(directory, ignore_errors=True)
    tarball.unlink(missing_ok=True)
    files, rules = kit_files(root), forbidden(root)
    out.mkdir(parents=True, exist_ok=True)
    write_tree(files, staging)
    try:
        leaks = find_leaks(staging, rules)
        if not leaks:
            staging.rename(directory)
            write_tarball(directory, tarball)
            if git:
                make_git_repository(directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Build(directory, tarball, files, rules, leaks)


def _report(result: Build, *, git: bool) -> None:
    if result.ok:
        extra = " (a git repository with one commit)" if git else ""
        print(f"wrote {result.directory}/{extra}: {len(result.files)} files; {result.tarball}")
        rules = result.rules
        print(
            f"leak check: clean ({len(rules.lines)} distinctive solution lines, {len(rules.phrases)} catalogue "
            f"phrases, {len(rules.names)} names, {len(rules.digests)} hidden files)"
        )
        return
    sources = {file.path: file.source for file in result.files}
    print(f"leak check failed: {len(result.leaks)} leak(s); nothing was written", file=sys.stderr)
    for leak in result.leaks:
        print(f"  {leak} (from {sources.get(leak.path, '?')})", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.kit", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("build", help="build and leak-check the candidate kit")
    command.add_argument("--out", type=Path, default=REPO_ROOT / "dist", help="where to write it (default: dist/)")
    command.add_argument("--git", action="store_true", help="make the kit directory a one-commit git repository")
    command.add_argument("--root", type=Path, default=REPO_ROOT, help="the repository to build from")
    args = parser.parse_args(argv)
    try:
        result = build(args.root.resolve(), args.out.resolve(), git=args.git)
    except LayoutError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return UNBUILDABLE
    _report(result, git=args.git)
    return 0 if result.ok else LEAKED


if __name__ == "__main__":
    raise SystemExit(main())
