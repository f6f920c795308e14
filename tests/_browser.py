"""Headless Chromium for the HTML report tests: installed on first use (the system package, via
tests/system_deps.sh), every run under a deadline, its process group reaped.

`layout` finds where each chart landed on the real page (a copy with a probe script: the page itself has
none) and `screenshot` renders the page itself, so the pixels checked are those a reader would see.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
INSTALL = ROOT / "tests" / "system_deps.sh"
INSTALL_DEADLINE_S = 500  # inside pytest-timeout's 600 s for the first test that needs it
RUN_DEADLINE_S = 120
WIDTH = 1280
PROBE = """<script>
const rects = {};
for (const chart of document.querySelectorAll("svg.chart")) {
  const r = chart.getBoundingClientRect();
  rects[chart.id] = [r.left + scrollX, r.top + scrollY, r.width, r.height];
}
document.documentElement.dataset.layout = JSON.stringify({height: document.documentElement.scrollHeight, rects});
</script>"""
Box = tuple[int, int, int, int]  # left, top, right, bottom


@cache
def chromium() -> str:
    """The Chromium binary, installed by the project's own script when missing (a clear failure, not a skip,
    when it cannot be)."""
    found = shutil.which("chromium")
    if found is None:
        if os.geteuid() != 0:
            pytest.fail(f"chromium is not installed and these tests are not root: run `sudo {INSTALL}`")
        done = subprocess.run(
            ["bash", str(INSTALL)], capture_output=True, text=True, timeout=INSTALL_DEADLINE_S, check=False
        )
        found = shutil.which("chromium")
        if done.returncode or found is None:
            pytest.fail(f"{INSTALL} could not install chromium: {(done.stderr or done.stdout).strip()[-500:]}")
    return found


@dataclass(frozen=True)
class Layout:
    height: int
    charts: dict[str, Box]


@dataclass(frozen=True)
class Browser:
    binary: str
    profile: Path  # a private --user-data-dir, so runs share nothing

    def _run(self, page: Path, *flags: str) -> bytes:
        command = [
            self.binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--force-device-scale-factor=1", "--disable-extensions", f"--user-data-dir={self.profile}",
            *flags, page.resolve().as_uri(),
        ]  # fmt: skip
        private = {"XDG_CONFIG_HOME": str(self.profile), "XDG_CACHE_HOME": str(self.profile)}  # nothing in ~
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            cwd=self.profile,
            env=os.environ | private,
        )
        try:
            out, err = process.communicate(timeout=RUN_DEADLINE_S)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # helpers Chromium left behind, if any
            process.wait()
        assert process.returncode == 0, err.decode(errors="replace")[-2000:]
        return out

    def dump_dom(self, page: Path, width: int = WIDTH) -> str:
        return self._run(page, f"--window-size={width},1000", "--dump-dom").decode()

    def layout(self, page: Path, width: int = WIDTH) -> Layout:
        probe = self.profile / f"probe-{page.name}"
        probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
        found = re.search(r'data-layout="([^"]*)"', self.dump_dom(probe, width))
        assert found, "the probe script did not run"
        data = json.loads(html.unescape(found.group(1)))
        charts = {
            name: (round(x), round(y), round(x + w), round(y + h)) for name, (x, y, w, h) in data["rects"].items()
        }
        return Layout(height=int(data["height"]), charts=charts)

    def screenshot(self, page: Path, height: int, width: int = WIDTH) -> Image.Image:
        shot = self.profile / f"{page.stem}.png"
        self._run(page, f"--window-size={width},{height}", f"--screenshot={shot}")
        with Image.open(BytesIO(shot.read_bytes())) as image:
            return image.convert("RGB")


def hex_rgb(colour: str) -> tuple[int, int, int]:
    value = int(colour.lstrip("#"), 16)
    return value >> 16, (value >> 8) & 0xFF, value & 0xFF


def pixels_near(image: Image.Image, box: Box, colour: str, tolerance: int = 60) -> int:
    """Pixels in `box` within `tolerance` (sum of channel differences) of `colour`: antialiased edges count
    only when close, the grey axes and the white ground never do."""
    red, green, blue = hex_rgb(colour)
    data = image.crop(box).tobytes()
    return sum(
        1
        for i in range(0, len(data), 3)
        if abs(data[i] - red) + abs(data[i + 1] - green) + abs(data[i + 2] - blue) <= tolerance
    )
