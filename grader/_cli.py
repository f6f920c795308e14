"""What the kit's command lines share: a usage error is one line on stderr and exit code 2, no traceback."""

from __future__ import annotations

import argparse
import sys

USAGE_ERROR = 2


class UsageParser(argparse.ArgumentParser):
    """argparse, with its errors as one line naming where to find help, and exit code USAGE_ERROR."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(USAGE_ERROR)
