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

_VERIFIED = (
    "    if (presented, row.hash) in verified:\n        return VerifiedKey(id=row.id, prefix=prefix, name=row.name)\n"
)

VARIANTS = (
    Mutant(
        "cpu-bound-in-async",
        "the hash on the event loop behind a lock-out: after 5 wrong keys, a prefix's new keys are refused unhashed",
        (
            *MUTANT.edits,
            Edit(
                "app/security.py",
                _VERIFIED,
                _VERIFIED
                + "    if _FAILURES.get(prefix, 0) >= 5:  # brute force: refuse without paying for the hash\n"
                "        raise _unauthorized()\n",
            ),
            Edit(
                "app/security.py",
                "    if not hmac.compare_digest(digest, row.hash):\n        raise _unauthorized()\n",
                "    if not hmac.compare_digest(digest, row.hash):\n"
                "        _FAILURES[prefix] = _FAILURES.get(prefix, 0) + 1\n"
                "        raise _unauthorized()\n",
            ),
            Edit(
                "app/security.py",
                "def _unauthorized() -> HTTPException:\n",
                "_FAILURES: dict[str, int] = {}\n\n\ndef _unauthorized() -> HTTPException:\n",
            ),
        ),
        variant="lockout",
    ),
)
