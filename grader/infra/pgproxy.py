"""A TCP proxy in front of PostgreSQL that follows the wire protocol, counts what apps do, injects faults.

    python -m grader.infra.pgproxy --upstream-host H --upstream-port P [--listen-fd N] --ready-file F

H is a host, or a unix socket directory when it starts with "/". The proxy listens on 127.0.0.1 (an
ephemeral port, or the listening socket N it was handed: the grader makes it inside the deployment's
network namespace) for clients, and on a second port for control over HTTP (header
`x-kit-control-token` required when started by the grader; 403 without it):
`GET /health`, `GET /stats`, `GET|PUT /config` ({latency_ms, refuse_new}), `POST /reset`.
HTTP sent to the client port (an app looking for the control API) and refused control requests are
counted in `/stats` `tampering`.
Each client connection gets its own upstream connection; the client's messages are counted
(statements = simple queries + Executes) and every connection is classified when it ends: "graceful"
(the client sent Terminate), "dropped" (the client vanished without it), "cancel" (a CancelRequest
connection) or "server_closed" (the server hung up first).

In the grader, `start_pgproxy(endpoint)` runs it as a child process and yields a `PgProxy` handle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._http11 import HttpServer, Request, Response, json_response, require_token, route_requests
from ._pgwire import EXECUTE, PARSE, QUERY, TERMINATE, FrontendParser, Phase
from ._service import (
    TOKEN_HEADER,
    ControlClient,
    ServiceProcess,
    control_token,
    run_child,
    serve_until_terminated,
    start_service,
)
from .postgres import Endpoint

MAX_RECORDS = 5000
UPSTREAM_CONNECT_TIMEOUT = 10.0
MAX_DELAYED_BYTES = 1024 * 1024  # beyond this, stop reading a client until its delayed bytes are sent
COUNTERS = (
    "connections_opened", "closed_graceful", "closed_dropped", "closed_by_server", "cancel_requests",
    "refused", "statements", "queries", "parses", "executes", "terminates",
)  # fmt: skip
CLOSED_COUNTER = {
    "graceful": "closed_graceful", "dropped": "closed_dropped", "server_closed": "closed_by_server",
    "cancel": "cancel_requests",
}  # fmt: skip

# A client's first bytes that are an HTTP request line, not a PostgreSQL start-up packet
HTTP_METHODS = (b"GET ", b"PUT ", b"POST ", b"HEAD ", b"DELETE ", b"PATCH ", b"OPTIONS ")
HTTP_ON_DATA = "HTTP request on the PostgreSQL port"
REFUSED = "control request without the grader's token"

log = logging.getLogger("pgproxy")


# --- the handle, used by the grader -------------------------------------------------------------


@dataclass
class PgProxy:
    """A running proxy: apps connect to `dsn(db)`; the grader reads `stats()` and sets faults."""

    service: ServiceProcess
    endpoint: Endpoint
    control: ControlClient

    @property
    def port(self) -> int:
        return self.service.port

    @property
    def pid(self) -> int:
        return self.service.pid

    def dsn(self, dbname: str, user: str | None = None, password: str | None = None) -> str:
        """A TCP libpq URL through the proxy: as `user` with `password`, else as the upstream's own user."""
        if user is None or user == self.endpoint.user:
            user, password = self.endpoint.user, self.endpoint.password
        auth = quote(user) + (f":{quote(password)}" if password else "")
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control.call("GET", "/stats")
        return result

    def configure(self, **fields: Any) -> dict[str, Any]:
        """Change `latency_ms` and/or `refuse_new`; returns the whole config."""
        result: dict[str, Any] = self.control.call("PUT", "/config", fields)
        return result

    def reset(self) -> None:
        """Zero the counters and forget closed connections; the config and live connections stay."""
        self.control.call("POST", "/reset")

    def tampering(self) -> dict[str, int]:
        """What was asked of the proxy that is the grader's alone (never reset)."""
        counts: dict[str, int] = self.stats()["tampering"]
        return counts

    def log_tail(self, lines: int = 40) -> str:
        return self.service.log_tail(lines)


@contextlib.contextmanager
def start_pgproxy(endpoint: Endpoint, listener: socket.socket | None = None) -> Iterator[PgProxy]:
    """Run a proxy in front of `endpoint` until the context ends, accepting on `listener` when given."""
    args = ["--upstream-host", endpoint.host, "--upstream-port", str(endpoint.port)]
    fds: tuple[int, ...] = ()
    if listener is not None:
        args += ["--listen-fd", str(listener.fileno())]
        fds = (listener.fileno(),)
    with start_service(__name__, args, name="pgproxy", pass_fds=fds) as service:
        control = ControlClient(service)
        try:
            yield PgProxy(service, endpoint, control)
        finally:
            control.close()


# --- the proxy itself, run in the child process ---------------------------------------------------


class ProxyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    latency_ms: float = Field(0.0, ge=0, le=600_000)
    refuse_new: bool = False

    def update(self, fields: Any) -> None:
        """Apply a partial config; ValueError (naming the field) leaves the config unchanged."""
        if not isinstance(fields, dict):
            raise TypeError("the config must be a JSON object")
        try:
            changed = self.model_validate(self.model_dump() | fields)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            if first["type"] == "extra_forbidden":
                raise ValueError(f"unknown config field: {where}") from None
            raise ValueError(f"{where}: {first['msg']}") from None
        self.latency_ms, self.refuse_new = changed.latency_ms, changed.refuse_new


class ConnectionRecord:
    __slots__ = ("closed_at", "id", "opened_at", "outcome", "statements")

    def __init__(self, id_: int) -> None:
        self.id = id_
        self.opened_at = time.time()
        self.closed_at: float | None = None
        self.outcome = "open"
        self.statements = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "opened_at": self.opened_at, "closed_at": self.closed_at,
            "outcome": self.outcome, "statements": self.statements,
        }  # fmt: skip


class Proxy:
    """Shared state of all connections: config, counters, connection records."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.config = ProxyConfig()
        self.counts: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.records: deque[ConnectionRecord] = deque(maxlen=MAX_RECORDS)
        self.live: dict[int, ClientSide] = {}
        self.tampering: Counter[str] = Counter()
        self.open_max = 0
        self._next_id = 1

    def opened(self, conn: ClientSide) -> ConnectionRecord:
        record = ConnectionRecord(self._next_id)
        self._next_id += 1
        self.records.append(record)
        self.live[record.id] = conn
        self.counts["connections_opened"] += 1
        self.open_max = max(self.open_max, len(self.live))
        return record

    def closed(self, record: ConnectionRecord, outcome: str) -> None:
        self.live.pop(record.id, None)
        record.outcome = outcome
        record.closed_at = time.time()
        if outcome in CLOSED_COUNTER:
            self.counts[CLOSED_COUNTER[outcome]] += 1

    def stats(self) -> dict[str, Any]:
        return {
            **self.counts,
            "connections_open": len(self.live),
            "connections_open_max": self.open_max,
            "connections": [record.as_dict() for record in self.records],
            "tampering": dict(self.tampering),
        }

    def reset(self) -> None:
        self.counts = dict.fromkeys(COUNTERS, 0)
        live = [conn.record for conn in self.live.values() if conn.record is not None]
        for record in live:
            record.statements = 0
        self.records = deque(sorted(live, key=lambda record: record.id), maxlen=MAX_RECORDS)
        self.open_max = len(self.live)

    def abort_all(self) -> None:
        for conn in list(self.live.values()):
            conn.abort()


class ClientSide(asyncio.Protocol):
    """One client connection and the upstream connection opened for it."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.loop = asyncio.get_running_loop()
        self.parser = FrontendParser(self._on_message)
        self.client: asyncio.Transport | None = None
        self.upstream: asyncio.Transport | None = None
        self.record: ConnectionRecord | None = None
        self.early: list[bytes] = []  # client bytes that arrived before the upstream connection
        self.delayed: deque[tuple[float, bytes]] = deque()
        self.delayed_bytes = 0
        self.last_due = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.pause_reasons: set[str] = set()
        self.terminated = False
        self.first = True
        self.client_gone = False
        self.upstream_gone = False
        self.connecting: asyncio.Task[None] | None = None

    # client side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.client = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's
        if self.proxy.config.refuse_new:
            self.proxy.counts["refused"] += 1
            self.client_gone = True
            self.client.close()
            return
        self.record = self.proxy.opened(self)
        self.connecting = self.loop.create_task(self._connect())

    def data_received(self, data: bytes) -> None:
        if self.first:
            self.first = False
            if data.startswith(HTTP_METHODS):
                self.proxy.tampering[HTTP_ON_DATA] += 1
                log.warning("connection %s: an HTTP request on the PostgreSQL port", self._id())
                self.abort()
                return
        self.parser.feed(data)
        latency = self.proxy.config.latency_ms
        if latency <= 0 and not self.delayed:
            self._to_upstream(data)
            return
        due = max(self.loop.time() + latency / 1000, self.last_due)  # never overtake an earlier chunk
        self.last_due = due
        self.delayed.append((due, data))
        self.delayed_bytes += len(data)
        if self.delayed_bytes > MAX_DELAYED_BYTES:
            self.pause_client("delay")
        if self.timer is None:
            self.timer = self.loop.call_at(due, self._release_delayed)

    def eof_received(self) -> bool:
        return False  # close our side too; the upstream is closed in connection_lost

    def connection_lost(self, exc: Exception | None) -> None:
        if self.record is None:
            return  # refused
        self.client_gone = True
        self._finish("dropped")
        if self.upstream is not None and not self.delayed:
            self.upstream.close()
        # else: the upstream is closed once the delayed bytes went out, or as soon as it is connected

    def pause_writing(self) -> None:
        if self.upstream is not None:
            self.upstream.pause_reading()

    def resume_writing(self) -> None:
        if self.upstream is not None and not self.upstream_gone:
            self.upstream.resume_reading()

    def _on_message(self, kind: int) -> None:
        counts = self.proxy.counts
        if kind in (QUERY, EXECUTE):
            counts["statements"] += 1
            counts["queries" if kind == QUERY else "executes"] += 1
            if self.record is not None:
                self.record.statements += 1
        elif kind == PARSE:
            counts["parses"] += 1
        elif kind == TERMINATE:
            counts["terminates"] += 1
            self.terminated = True

    def _release_delayed(self) -> None:
        self.timer = None
        now = self.loop.time()
        while self.delayed and self.delayed[0][0] <= now:
            _, data = self.delayed.popleft()
            self.delayed_bytes -= len(data)
            self._to_upstream(data)
        if self.delayed:
            self.timer = self.loop.call_at(self.delayed[0][0], self._release_delayed)
        elif self.client_gone and self.upstream is not None:
            self.upstream.close()
        if self.delayed_bytes <= MAX_DELAYED_BYTES:
            self.resume_client("delay")

    def _to_upstream(self, data: bytes) -> None:
        if self.upstream_gone:
            return
        if self.upstream is None:
            self.early.append(data)
        else:
            self.upstream.write(data)

    def pause_client(self, reason: str) -> None:
        if not self.pause_reasons and self.client is not None and not self.client_gone:
            self.client.pause_reading()
        self.pause_reasons.add(reason)

    def resume_client(self, reason: str) -> None:
        if reason not in self.pause_reasons:
            return
        self.pause_reasons.discard(reason)
        if not self.pause_reasons and self.client is not None and not self.client_gone:
            self.client.resume_reading()

    # upstream side

    async def _connect(self) -> None:
        host, port = self.proxy.upstream_host, self.proxy.upstream_port
        try:
            async with asyncio.timeout(UPSTREAM_CONNECT_TIMEOUT):
                if host.startswith("/"):
                    path = f"{host}/.s.PGSQL.{port}"
                    await self.loop.create_unix_connection(lambda: UpstreamSide(self), path)
                else:
                    await self.loop.create_connection(lambda: UpstreamSide(self), host, port)
        except (OSError, TimeoutError) as exc:
            log.warning("connection %s: upstream unreachable: %s", self._id(), exc)
            self.upstream_gone = True
            self._finish("server_closed")
            if self.client is not None and not self.client_gone:
                self.client.close()

    def upstream_made(self, transport: asyncio.Transport) -> None:
        self.upstream = transport
        for chunk in self.early:
            transport.write(chunk)
        self.early.clear()
        if self.client_gone and not self.delayed:
            transport.close()

    def upstream_received(self, data: bytes) -> None:
        if self.parser.phase is Phase.AWAIT_ANSWER:
            self.parser.server_answered(data[0])
        if not self.client_gone and self.client is not None:
            self.client.write(data)

    def upstream_lost(self) -> None:
        self.upstream_gone = True
        self._finish("server_closed")
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.delayed.clear()
        if not self.client_gone and self.client is not None:
            self.client.close()  # after flushing what the server said last

    # both

    def _finish(self, first_closer: str) -> None:
        """Classify the connection once, when its first side closes."""
        record = self.record
        if record is None or record.outcome != "open":
            return
        if self.parser.is_cancel:
            outcome = "cancel"
        elif self.terminated:
            outcome = "graceful"
        else:
            outcome = first_closer
        self.proxy.closed(record, outcome)

    def _id(self) -> int:
        return self.record.id if self.record is not None else 0

    def abort(self) -> None:
        for transport in (self.client, self.upstream):
            if transport is not None:
                transport.abort()


class UpstreamSide(asyncio.Protocol):
    def __init__(self, conn: ClientSide) -> None:
        self.conn = conn

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.conn.upstream_made(cast(asyncio.Transport, transport))

    def data_received(self, data: bytes) -> None:
        self.conn.upstream_received(data)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.conn.upstream_lost()

    def pause_writing(self) -> None:
        self.conn.pause_client("upstream")

    def resume_writing(self) -> None:
        self.conn.resume_client("upstream")


def _control_routes(proxy: Proxy) -> dict[tuple[str, str], Callable[[Request], Response]]:
    def put_config(request: Request) -> Response:
        try:
            proxy.config.update(request.json())
        except (TypeError, ValueError) as exc:
            return json_response(400, {"detail": str(exc)})
        log.info("config: %s", proxy.config.model_dump())
        return json_response(200, proxy.config.model_dump())

    def reset(_: Request) -> Response:
        proxy.reset()
        return json_response(200, {"status": "reset"})

    return {
        ("GET", "/health"): lambda _: json_response(200, {"status": "ok"}),
        ("GET", "/stats"): lambda _: json_response(200, proxy.stats()),
        ("GET", "/config"): lambda _: json_response(200, proxy.config.model_dump()),
        ("PUT", "/config"): put_config,
        ("POST", "/reset"): reset,
    }


async def _serve(upstream_host: str, upstream_port: int, listen_fd: int | None, ready_file: str) -> None:
    proxy = Proxy(upstream_host, upstream_port)
    loop = asyncio.get_running_loop()
    if listen_fd is not None:
        given = socket.socket(fileno=listen_fd)
        server = await loop.create_server(lambda: ClientSide(proxy), sock=given, backlog=1024)
    else:
        server = await loop.create_server(lambda: ClientSide(proxy), "127.0.0.1", 0, backlog=1024)

    def refused(request: Request) -> None:
        proxy.tampering[REFUSED] += 1
        log.warning("refused %s %s: no token", request.method, request.path)

    control = HttpServer(require_token(route_requests(_control_routes(proxy)), TOKEN_HEADER, control_token(), refused))
    try:
        control_port = await control.start()
        port = int(server.sockets[0].getsockname()[1])
        log.info("listening on %s, control on %s, upstream %s:%s", port, control_port, upstream_host, upstream_port)
        await serve_until_terminated(ready_file, {"port": port, "control_port": control_port})
    finally:
        server.close()
        control.close()
        proxy.abort_all()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader.infra.pgproxy")
    parser.add_argument("--upstream-host", required=True, help="a host, or a unix socket directory (/...)")
    parser.add_argument("--upstream-port", required=True, type=int)
    parser.add_argument("--listen-fd", type=int, default=None, help="a listening socket to accept clients on")
    parser.add_argument("--ready-file", required=True, help="where to write {port, control_port, pid}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run_child(_serve(args.upstream_host, args.upstream_port, args.listen_fd, args.ready_file))


if __name__ == "__main__":
    main()
