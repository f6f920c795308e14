"""cpu-bound-in-async: PBKDF2 (~70 ms of CPU) computed on the event loop."""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "cpu-bound-in-async",
    "hashlib.pbkdf2_hmac called directly instead of in a worker thread",
    (
        Edit(
            "app/security.py",
            """    digest = await anyio.to_thread.run_sync(
        hashlib.pbkdf2_hmac, "sha256", presented.encode(), row.salt, row.iterations, len(row.hash),
        limiter=limiter,
    )
""",
            '    digest = hashlib.pbkdf2_hmac("sha256", presented.encode(), row.salt, row.iterations, len(row.hash))\n',
        ),
    ),
)
