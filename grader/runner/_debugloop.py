"""An asyncio loop that stays in debug mode, for `uvicorn --loop kit_debugloop:new_debug_loop`.

uvicorn on Python 3.11 switches debug mode off whatever PYTHONASYNCIODEBUG says; this loop keeps it on,
so the app's log shows slow callbacks and coroutines that were never awaited. Imported by the app's
process, which cannot see the grader: run_app copies this file beside the app as `kit_debugloop`, so it
must stay free of the grader's other modules.
"""

from __future__ import annotations

import asyncio

SLOW_CALLBACK_S = 0.05  # the PBKDF2 key check (~70 ms) on the loop should show


class _DebugLoop(asyncio.SelectorEventLoop):
    def set_debug(self, enabled: bool) -> None:
        super().set_debug(True)
        self.slow_callback_duration = SLOW_CALLBACK_S


def new_debug_loop() -> asyncio.AbstractEventLoop:
    loop = _DebugLoop()
    loop.set_debug(True)
    return loop
