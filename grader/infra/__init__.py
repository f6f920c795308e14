"""Infrastructure a grade runs on: PostgreSQL, a fault-injecting PostgreSQL proxy, a payments stub.

Also the package's process helpers other packages use (the runner, the load engine): waiting with a
deadline, stopping a process group, the unprivileged system accounts, network namespaces.
"""

from grader.infra._netns import NamespaceError, NetNamespace
from grader.infra._reap import stop
from grader.infra._service import ServiceError
from grader.infra._users import make_traversable, system_user
from grader.infra._wait import NotReadyError, wait_until

__all__ = [
    "NamespaceError",
    "NetNamespace",
    "NotReadyError",
    "ServiceError",
    "make_traversable",
    "stop",
    "system_user",
    "wait_until",
]
