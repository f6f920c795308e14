"""Run a submission as an untrusted program: a private copy, a scrubbed environment, bounded in time."""
