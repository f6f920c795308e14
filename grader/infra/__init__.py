"""Infrastructure a grade runs on: PostgreSQL, a fault-injecting PostgreSQL proxy, a payments stub.

Also the package's process helpers other packages use (the runner, the load engine): waiting with a
deadline, stopping a process group, the unprivileged system accounts.
"""

from grader.infra._reap import stop
from grader.infra._users import make_traversable, system_user
from grader.infra._wait import NotReadyError, wait_until

__all__ = ["NotReadyError", "make_traversable", "stop", "system_user", "wait_until"]
