"""Follow the frontend (client to server) side of the PostgreSQL wire protocol, message by message.

Only message boundaries and types are read; bodies are skipped without copying, so the proxy can
count statements at wire speed. Messages may straddle reads: a partial header is kept, a partial body
is remembered as a number of bytes still to skip.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
MAX_STARTUP_LENGTH = 10000  # the server's own limit for a startup packet

QUERY = ord("Q")
PARSE = ord("P")
EXECUTE = ord("E")
TERMINATE = ord("X")
SSL_REFUSED = ord("N")


class Phase(enum.Enum):
    STARTUP = "startup"  # untyped packets: Int32 length, Int32 code, ...
    AWAIT_ANSWER = "await_answer"  # sent SSLRequest/GSSENCRequest; the server answers with one byte
    TYPED = "typed"  # Byte1 type, Int32 length (including itself), body
    OPAQUE = "opaque"  # encrypted or not PostgreSQL: forwarded, no longer followed


class FrontendParser:
    """Feeds on client bytes; calls `on_message(type_byte)` for every complete typed message header."""

    __slots__ = ("_on_message", "_partial", "_skip", "is_cancel", "phase")

    def __init__(self, on_message: Callable[[int], None]) -> None:
        self._on_message = on_message
        self.phase = Phase.STARTUP
        self.is_cancel = False
        self._skip = 0  # body bytes of the current message not seen yet
        self._partial = b""  # the start of a header cut by a read

    def feed(self, data: bytes) -> None:
        if self.phase is Phase.OPAQUE:
            return
        if self._partial:  # never set while a body is being skipped
            data = self._partial + data
            self._partial = b""
        end = len(data)
        pos = self._skip
        while pos < end:
            if self.phase is Phase.TYPED:
                pos = self._typed(data, pos, end)
            elif self.phase is Phase.STARTUP:
                pos = self._startup(data, pos, end)
            else:
                # a client must wait for the server's one-byte answer; bytes now are not PostgreSQL
                self.phase = Phase.OPAQUE
            if pos < 0 or self.phase is Phase.OPAQUE:
                self._skip = 0
                return
        self._skip = pos - end

    def _typed(self, data: bytes, pos: int, end: int) -> int:
        """The position after the message at `pos`, or -1 when its header is cut (kept for later)."""
        if end - pos < 5:
            self._partial = data[pos:]
            return -1
        length = int.from_bytes(data[pos + 1 : pos + 5], "big")
        if length < 4:
            self.phase = Phase.OPAQUE
            return -1
        self._on_message(data[pos])
        return pos + 1 + length

    def _startup(self, data: bytes, pos: int, end: int) -> int:
        """Like `_typed`, for an untyped startup-phase packet; moves the phase on."""
        if end - pos < 8:
            self._partial = data[pos:]
            return -1
        length = int.from_bytes(data[pos : pos + 4], "big")
        code = int.from_bytes(data[pos + 4 : pos + 8], "big")
        if not 8 <= length <= MAX_STARTUP_LENGTH:
            self.phase = Phase.OPAQUE  # e.g. a direct TLS handshake
        elif code in (SSL_REQUEST, GSSENC_REQUEST):
            self.phase = Phase.AWAIT_ANSWER
        elif code == CANCEL_REQUEST:
            self.is_cancel = True
            self.phase = Phase.OPAQUE  # nothing follows but the close
        else:
            self.phase = Phase.TYPED
        return pos + length

    def server_answered(self, first_byte: int) -> None:
        """The server's first byte after SSLRequest/GSSENCRequest: 'N' keeps plaintext, else encrypted."""
        if self.phase is Phase.AWAIT_ANSWER:
            self.phase = Phase.STARTUP if first_byte == SSL_REFUSED else Phase.OPAQUE
