"""The kit's local tooling: a development database, the payments stub, your app, smoke and load tests.

Run it from the kit's root with `python -m tools --help`, or through the Makefile. `postgres.py`,
`pgproxy.py`, `payments_stub.py` and the `_`-prefixed helpers are copies of the grader's own
infrastructure: what you run locally behaves like what your submission is graded against.
"""
