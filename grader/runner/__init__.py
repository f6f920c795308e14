"""Run a submission as an untrusted program: a private copy, a scrubbed environment, bounded in time."""

from grader.runner._sandbox import Sandbox, sandbox

__all__ = ["Sandbox", "sandbox"]
