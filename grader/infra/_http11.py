"""A tiny HTTP/1.1 server on asyncio + h11 that keeps control of the raw connection.

Frameworks hide what a fault injector needs: counting TCP connections, answering with a TCP reset
instead of a response, and noticing that a client gave up on a request that is still being worked on.
Keep-alive is supported; pipelining is not needed (early bytes of a next request are kept, not served
concurrently).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import socket
import struct
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import h11

MAX_BODY_BYTES = 1024 * 1024
READ_CHUNK = 65536

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # names lower-cased; a repeated header keeps its last value
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON; ValueError when it is not JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = field(default=(("content-type", "application/json"),))


def json_response(status: int, payload: Any) -> Response:
    return Response(status, json.dumps(payload).encode())


class Reset:
    """Answer by closing the connection with a TCP RST (SO_LINGER 0) instead of a response."""


RESET: Final = Reset()

Handler = Callable[[Request], Awaitable[Response | Reset]]


class HttpServer:
    """Serves `handler` on one listening socket; `on_open`/`on_close` see every TCP connection."""

    def __init__(
        self,
        handler: Handler,
        *,
        on_open: Callable[[], None] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._handler = handler
        self._on_open = on_open
        self._on_close = on_close
        self._server: asyncio.Server | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0, *, sock: socket.socket | None = None) -> int:
        """Listen (on `sock` when given, a listening socket made elsewhere); return the bound port."""
        if sock is not None:
            self._server = await asyncio.start_server(self._serve_connection, sock=sock)
        else:
            self._server = await asyncio.start_server(self._serve_connection, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._on_open is not None:
            self._on_open()
        conn = h11.Connection(h11.SERVER)
        reset = False
        try:
            while True:
                request = await _read_request(conn, reader)
                if request is None:
                    return
                outcome = await self._answer(request, reader, conn)
                if outcome is None:  # the client went away first
                    return
                if isinstance(outcome, Reset):
                    _reset(writer)
                    reset = True
                    return
                writer.write(_encode(conn, outcome))
                await writer.drain()
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return  # e.g. "Connection: close"
                conn.start_next_cycle()
        except h11.RemoteProtocolError as exc:
            if conn.our_state in {h11.IDLE, h11.SEND_RESPONSE}:
                with contextlib.suppress(h11.LocalProtocolError, ConnectionError):
                    writer.write(_encode(conn, json_response(exc.error_status_hint, {"detail": str(exc)})))
        except (ConnectionError, TimeoutError):
            pass
        finally:
            if not reset:
                writer.close()
            if self._on_close is not None:
                self._on_close()

    async def _answer(
        self, request: Request, reader: asyncio.StreamReader, conn: h11.Connection
    ) -> Response | Reset | None:
        """Run the handler while watching the socket; None when the client left before the answer."""
        work = asyncio.ensure_future(self._handler(request))
        watch = asyncio.ensure_future(reader.read(READ_CHUNK))
        try:
            done, _ = await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
            if watch in done:
                try:
                    data = watch.result()
                except ConnectionError:
                    data = b""
                if not data and work not in done:
                    return None
                conn.receive_data(data)  # h11 holds early bytes of a next request (or the EOF) for later
                await asyncio.wait({work})
            try:
                return work.result()
            except Exception:
                log.exception("handler failed for %s %s", request.method, request.path)
                return json_response(500, {"detail": "internal error in the stub"})
        finally:
            for task in (work, watch):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                        await task


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        conn.receive_data(await reader.read(READ_CHUNK))  # b"" tells h11 about EOF


async def _read_request(conn: h11.Connection, reader: asyncio.StreamReader) -> Request | None:
    """The next complete request, or None when the client closed the connection between requests."""
    event = await _next_event(conn, reader)
    if isinstance(event, h11.ConnectionClosed):
        return None
    if not isinstance(event, h11.Request):
        raise h11.RemoteProtocolError(f"expected a request, got {type(event).__name__}")
    body = bytearray()
    while True:
        part = await _next_event(conn, reader)
        if isinstance(part, h11.Data):
            body += part.data
            if len(body) > MAX_BODY_BYTES:
                raise h11.RemoteProtocolError("request body too large", error_status_hint=413)
        elif isinstance(part, h11.EndOfMessage):
            break
        else:
            raise h11.RemoteProtocolError(f"unexpected {type(part).__name__} in a request body")
    target = event.target.decode("latin-1")
    path, _, query = target.partition("?")
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in event.headers}
    return Request(event.method.decode("ascii"), path, query, headers, bytes(body))


def _encode(conn: h11.Connection, response: Response) -> bytes:
    headers = [*response.headers, ("content-length", str(len(response.body)))]
    out = conn.send(h11.Response(status_code=response.status, headers=headers)) or b""
    if response.body:
        out += conn.send(h11.Data(data=response.body)) or b""
    return out + (conn.send(h11.EndOfMessage()) or b"")


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST: linger on, timeout 0, then drop the socket without flushing."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def route_requests(routes: Mapping[tuple[str, str], Callable[[Request], Response]]) -> Handler:
    """A handler dispatching on (method, path) exactly; 404 for anything else."""

    async def handler(request: Request) -> Response:
        route = routes.get((request.method, request.path))
        if route is None:
            return json_response(404, {"detail": f"no route {request.method} {request.path}"})
        return route(request)

    return handler


def require_token(handler: Handler, header: str, token: str | None, refused: Callable[[Request], None]) -> Handler:
    """`handler` for requests carrying `token` in `header`; 403 (and `refused` told) for any other.
    With no token (a service run by hand) every request is served."""
    if token is None:
        return handler
    expected = token.encode()

    async def guarded(request: Request) -> Response | Reset:
        if not hmac.compare_digest(request.headers.get(header, "").encode(), expected):
            refused(request)
            return json_response(403, {"detail": "this port is the grader's"})
        return await handler(request)

    return guarded
