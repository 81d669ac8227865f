"""A threading HTTP/1.1 server that runs the sandbox's WSGI app.

``wsgiref.simple_server`` closes every connection after one request and cannot drop a socket
without answering, which the "connection reset" fault needs; so this is a small stdlib
``ThreadingHTTPServer`` handler that builds a WSGI environ itself. It keeps connections alive
(benchmarks), reads ``Transfer-Encoding: chunked`` request bodies (streamed uploads) and runs
every request in a daemon thread.
"""

from __future__ import annotations

import socket
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from .http import AbortConnection


class _BodyReader:
    """``wsgi.input``: never reads past the request body, so keep-alive stays in sync."""

    def __init__(self, rfile: Any, length: int | None, chunked: bool) -> None:
        self._rfile = rfile
        self._remaining = length or 0
        self._chunked = chunked
        self._chunk_left = 0
        self.finished = not chunked and not length

    def read(self, size: int = -1) -> bytes:
        if self.finished:
            return b""
        if self._chunked:
            return self._read_chunked(size)
        if size < 0 or size > self._remaining:
            size = self._remaining
        data = self._rfile.read(size)
        self._remaining -= len(data)
        if not data or self._remaining <= 0:
            self.finished = self._remaining <= 0
            if not data:
                self.finished = True
        return data

    def _read_chunked(self, size: int) -> bytes:
        out = bytearray()
        while size < 0 or len(out) < size:
            if self._chunk_left == 0:
                line = self._rfile.readline(1024)
                if not line:
                    self.finished = True
                    break
                length = int(line.split(b";")[0].strip() or b"0", 16)
                if length == 0:
                    while self._rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    self.finished = True
                    break
                self._chunk_left = length
            want = self._chunk_left if size < 0 else min(self._chunk_left, size - len(out))
            data = self._rfile.read(want)
            if not data:
                self.finished = True
                break
            out += data
            self._chunk_left -= len(data)
            if self._chunk_left == 0:
                self._rfile.readline(16)  # the CRLF after each chunk
        return bytes(out)


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "KollusSandbox/1.0"
    # Idle keep-alive connections must not pin threads forever.
    timeout = 60

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _run(self) -> None:
        server: SandboxHTTPServer = self.server  # type: ignore[assignment]
        path, _, query = self.path.partition("?")
        length_header = self.headers.get("Content-Length")
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        body = _BodyReader(self.rfile, int(length_header) if length_header else None, chunked)
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path),
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": length_header or "",
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": body,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for key, value in self.headers.items():
            name = "HTTP_" + key.upper().replace("-", "_")
            if name not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[name] = value
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        try:
            chunks = server.app(environ, start_response)
            payload = b"".join(chunks)
        except AbortConnection:
            self._reset_connection()
            return
        if not body.finished:
            # The handler did not read the whole body (e.g. an early 4xx): the socket is out of
            # sync, so this answer is the last on it.
            self.close_connection = True
        code, _, reason = captured["status"].partition(" ")
        self.send_response(int(code), reason)
        has_length = False
        for name, value in captured["headers"]:
            if name.lower() == "content-length":
                has_length = True
            self.send_header(name, value)
        if not has_length:
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        # Headers and body in one write: two small writes meet Nagle + delayed ACK and cost
        # ~40 ms per keep-alive request.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(payload)
        self.flush_headers()

    def _reset_connection(self) -> None:
        # SO_LINGER 0 turns close() into a TCP RST: the client sees "connection reset".
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _run

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines carry access tokens and JWTs in their query strings: never print them.
        if self.server.verbose:  # type: ignore[attr-defined]
            sys.stderr.write(f"sandbox: {self.command} {self.path.partition('?')[0]}\n")


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: Any, *, verbose: bool = False) -> None:
        self.app = app
        self.verbose = verbose
        super().__init__(address, SandboxRequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-answer (timeouts in tests) are normal here.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout)):
            return
        super().handle_error(request, client_address)
