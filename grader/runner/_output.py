"""Capture a child's output into a file, up to a size cap, without ever blocking the child."""

from __future__ import annotations

import bisect
import threading
import time
from pathlib import Path
from typing import IO


class CappedLog:
    """Drains a pipe on a thread; keeps the first `cap` bytes in `path` and counts the rest."""

    def __init__(self, pipe: IO[bytes], path: Path, cap: int) -> None:
        self.path = path
        self.cap = cap
        self.written = 0
        self.discarded = 0
        self._kept: bytes | None = None
        # (monotonic time a chunk arrived, its offset in the file): what the app wrote during a window
        self._marks: list[tuple[float, int]] = []
        self._pipe = pipe
        self._thread = threading.Thread(target=self._drain, name=f"log:{path.name}", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        with self.path.open("wb") as out:
            while chunk := self._pipe.read1(65536):  # type: ignore[attr-defined]
                self._marks.append((time.monotonic(), self.written))
                room = self.cap - self.written
                if room > 0:
                    out.write(chunk[:room])
                    out.flush()
                    self.written += min(room, len(chunk))
                self.discarded += max(0, len(chunk) - max(room, 0))
        self._pipe.close()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def keep(self) -> None:
        """Hold the log in memory: its file is about to be removed with the app's home."""
        self._kept = self._bytes()

    def _bytes(self) -> bytes:
        if self._kept is not None:
            return self._kept
        try:
            return self.path.read_bytes()
        except OSError:
            return b""

    def text(self) -> str:
        return self._bytes().decode(errors="replace")

    def between(self, started: float, ended: float) -> str:
        """What the app wrote between two `time.monotonic()` readings (within the kept part of the log)."""
        times = [at for at, _ in self._marks]
        first, last = bisect.bisect_left(times, started), bisect.bisect_right(times, ended)
        if first >= last:
            return ""
        start = self._marks[first][1]
        end = self._marks[last][1] if last < len(self._marks) else self.written
        return self._bytes()[start:end].decode(errors="replace")

    def tail(self, lines: int = 30) -> str:
        body = "\n".join(self.text().splitlines()[-lines:])
        if self.discarded:
            body += f"\n[... {self.discarded} more bytes of output discarded past the {self.cap}-byte cap]"
        return body
