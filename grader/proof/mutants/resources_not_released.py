"""resources-not-released: the engine and the HTTP client are never closed on shutdown.

They are still built in the lifespan (resources-at-import stays fixed); the engine's connections are
dropped at exit instead of closed.
"""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "resources-not-released",
    "the lifespan's shutdown no longer closes the HTTP client nor disposes the engine",
    (
        Edit(
            "app/main.py",
            "        await asyncio.gather(notifier.drain(), cancellations.drain())\n"
            "        await http.aclose()\n        await engine.dispose()\n",
            "        await asyncio.gather(notifier.drain(), cancellations.drain())\n",
        ),
    ),
)
