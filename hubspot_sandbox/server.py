"""The HTTP/1.1 transport: a threaded stdlib socket server with keep-alive.

Written on `socketserver` rather than `http.server` so the wire is ours: no wall-clock `Date`
header (responses must be byte-reproducible), our own 414 threshold, and the two damaged
deliveries faults need (a reset without an answer, a body shorter than its Content-Length).
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
import time
from http import HTTPStatus
from typing import TYPE_CHECKING

from hubspot_sandbox.errors import HtmlError
from hubspot_sandbox.responses import Response

if TYPE_CHECKING:
    from hubspot_sandbox.dispatch import Dispatcher

# Request lines beyond this are not even read whole: answered 414 and the connection closed.
# Shorter ones beyond the 16 KB API limit are read and answered 414 by the dispatcher.
MAX_LINE_BYTES = 64 * 1024
MAX_HEADERS = 100
_REASONS = {status.value: status.phrase for status in HTTPStatus}


class SandboxHTTPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """One thread per connection; `stop` also closes idle keep-alive connections."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _ConnectionHandler)

    def track(self, conn: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(conn)

    def stop(self) -> None:
        self.shutdown()
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.server_close()


class _ConnectionHandler(socketserver.StreamRequestHandler):
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def handle(self) -> None:
        try:
            while self._serve_one():
                pass
        except (ConnectionError, TimeoutError, OSError):
            pass  # the client went away; nothing to answer

    def _serve_one(self) -> bool:
        """Read one request and answer it; False ends the connection."""
        line = self.rfile.readline(MAX_LINE_BYTES + 1)
        if not line:
            return False
        if len(line) > MAX_LINE_BYTES:
            self._send(HtmlError(414, "/").to_response(""), keep_alive=False)
            return False
        if not line.strip():
            return True  # stray CRLF between pipelined requests
        parts = line.decode("latin-1").split()
        headers = self._read_headers()
        if len(parts) != 3 or headers is None:
            self._send(HtmlError(400, "/").to_response(""), keep_alive=False)
            return False
        method, target, version = parts
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        if headers.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self._read_body(headers)
        if body is None:
            return False
        return self._send(self.server.dispatcher.handle(method, target, headers, body), keep_alive)

    def _read_headers(self) -> dict[str, str] | None:
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            raw = self.rfile.readline(MAX_LINE_BYTES + 1)
            if raw in (b"\r\n", b"\n", b""):
                return headers
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep:
                return None
            headers[name.strip().lower()] = value.strip()
        return None

    def _read_body(self, headers: dict[str, str]) -> bytes | None:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline(MAX_LINE_BYTES).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(MAX_LINE_BYTES) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(MAX_LINE_BYTES)
        length = int(headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        return body if len(body) == length else None

    def _send(self, response: Response, keep_alive: bool) -> bool:
        if response.delay:
            time.sleep(response.delay)
        if response.transport == "reset":
            # SO_LINGER 0 makes close() send RST: the client sees a reset, not a clean end of stream.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.connection.close()
            return False
        truncate = response.transport == "truncate"
        keep_alive = keep_alive and not truncate
        head = [
            f"HTTP/1.1 {response.status} {_REASONS.get(response.status, '')}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
            *(f"{name}: {value}" for name, value in response.headers),
            f"Connection: {'keep-alive' if keep_alive else 'close'}",
        ]
        # Truncation: the full Content-Length is promised but only half the body arrives, then EOF.
        body = response.body[: len(response.body) // 2] if truncate else response.body
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        return keep_alive
