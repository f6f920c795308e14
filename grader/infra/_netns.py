"""Network namespaces for deployments: a fresh loopback per app, and listening sockets made inside one.

A listening socket belongs to the namespace it was created in, wherever its file descriptor goes. So the
grader makes a namespace per deployment, and the PostgreSQL proxy and the payments stub accept on sockets
created inside it while they themselves (their control ports, the proxy's upstream connection) stay in
the grader's namespace: the app reaches its two URLs and nothing else, with no forwarder in between.

Entering a network namespace changes only the calling thread's, so every step runs in a thread of its own
that ends afterwards; the process (asyncio, other threads) never leaves its namespace. Needs root
(CAP_SYS_ADMIN); `NamespaceError` says which step failed otherwise.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import threading
from collections.abc import Callable
from typing import TypeVar

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
IFNAMSIZ = 16
IFREQ_BYTES = 40  # struct ifreq: the name, then a union of which we use the short flags
THREAD_NETNS = "/proc/thread-self/ns/net"
LISTEN_BACKLOG = 1024

T = TypeVar("T")


class NamespaceError(OSError):
    """A namespace step the kernel refused; the message names the step."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, step: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise NamespaceError(errno, f"{step}: {os.strerror(errno)}")


def _in_own_thread(work: Callable[[], T]) -> T:
    """`work()` run in a fresh thread (whose namespace it may change), its result or its exception."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the caller
            failure.append(exc)

    thread = threading.Thread(target=run, name="netns", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


def _enter(fd: int, step: str) -> None:
    _check(_libc().setns(fd, CLONE_NEWNET), step)


def _loopback_up() -> None:
    """Bring `lo` up in the calling thread's namespace (a new one starts with it down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as handle:
        request = struct.pack(f"{IFNAMSIZ}s", b"lo").ljust(IFREQ_BYTES, b"\0")
        current = fcntl.ioctl(handle.fileno(), SIOCGIFFLAGS, request)
        flags = struct.unpack_from("h", current, IFNAMSIZ)[0] | IFF_UP
        fcntl.ioctl(handle.fileno(), SIOCSIFFLAGS, struct.pack(f"{IFNAMSIZ}sh", b"lo", flags).ljust(IFREQ_BYTES, b"\0"))


def _listener_here(backlog: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it
        listener.bind(("127.0.0.1", 0))
        listener.listen(backlog)
    except OSError:
        listener.close()
        raise
    return listener


def _listener_in(namespace_fd: int, backlog: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (a free port) of the namespace `namespace_fd` refers to."""
    return NetNamespace(namespace_fd).call(lambda: _listener_here(backlog))


class NetNamespace:
    """A fresh network namespace with only `lo`, held open by a file descriptor of the grader's."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @classmethod
    def create(cls) -> NetNamespace:
        def make() -> int:
            home = os.open(THREAD_NETNS, os.O_RDONLY | os.O_CLOEXEC)
            try:
                _check(_libc().unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
                try:
                    try:
                        _loopback_up()
                    except OSError as exc:
                        raise NamespaceError(exc.errno, f"bringing lo up: {exc.strerror}") from None
                    return os.open(THREAD_NETNS, os.O_RDONLY | os.O_CLOEXEC)
                finally:
                    _enter(home, "setns(CLONE_NEWNET) back")
            finally:
                os.close(home)

        return cls(_in_own_thread(make))

    @property
    def path(self) -> str:
        """Where another process of ours (root) can open this namespace while the grader holds it."""
        return f"/proc/{os.getpid()}/fd/{self.fd}"

    def listener(self, backlog: int = LISTEN_BACKLOG) -> socket.socket:
        """A listening socket on 127.0.0.1 inside this namespace: only processes in it can connect."""
        return _listener_in(self.fd, backlog)

    def call(self, work: Callable[[], T]) -> T:
        """`work()` run inside this namespace (in a thread of its own): the sockets it makes are there."""

        def inside() -> T:
            home = os.open(THREAD_NETNS, os.O_RDONLY | os.O_CLOEXEC)
            try:
                _enter(self.fd, "setns(CLONE_NEWNET) into the deployment's namespace")
                try:
                    return work()
                finally:
                    _enter(home, "setns(CLONE_NEWNET) back")
            finally:
                os.close(home)

        return _in_own_thread(inside)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def listener(namespace_path: str | None, backlog: int = LISTEN_BACKLOG) -> socket.socket:
    """A listening socket on 127.0.0.1 in the namespace at `namespace_path`, or in our own when None."""
    if namespace_path is None:
        return _listener_here(backlog)
    fd = os.open(namespace_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return _listener_in(fd, backlog)
    finally:
        os.close(fd)
