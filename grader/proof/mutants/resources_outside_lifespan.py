"""resources-outside-lifespan: the engine and the HTTP client are never closed on shutdown.

(Moving their creation to import time would rewrite most of main.py; never disposing them is the part
the probe can tell apart: the engine's connections are dropped at exit instead of closed.)
"""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "resources-outside-lifespan",
    "the lifespan's shutdown no longer closes the HTTP client nor disposes the engine",
    (
        Edit(
            "app/main.py",
            "        await notifier.drain()\n        await http.aclose()\n        await engine.dispose()\n",
            "        await notifier.drain()\n",
        ),
    ),
)
