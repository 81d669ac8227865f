"""A streaming ``multipart/form-data`` reader.

The upload host must take a 1 GiB file in constant memory, and ``cgi`` is gone from the
standard library, so parts are read from the socket in fixed-size chunks: only a small window
(the boundary length) is ever held back between reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

CHUNK_SIZE = 256 * 1024
MAX_PART_HEADERS = 16 * 1024


class MultipartError(ValueError):
    """The body is not well-formed multipart (truncated, missing boundary, huge headers)."""


def parse_options_header(value: str) -> tuple[str, dict[str, str]]:
    """``'form-data; name="a"; filename="b.mp4"'`` → ``("form-data", {"name": "a", ...})``."""
    parts = [p.strip() for p in value.split(";")]
    main = parts[0].lower() if parts else ""
    options: dict[str, str] = {}
    for part in parts[1:]:
        if "=" not in part:
            continue
        key, _, raw = part.partition("=")
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1].replace('\\"', '"')
        options[key.strip().lower()] = raw
    return main, options


class Part:
    """One part; iterate ``chunks()`` (or call ``read_all``) before asking for the next part."""

    def __init__(self, reader: MultipartReader, headers: dict[str, str]) -> None:
        self._reader = reader
        self.headers = headers
        _, options = parse_options_header(headers.get("content-disposition", ""))
        self.name: str = options.get("name", "")
        self.filename: str | None = options.get("filename")
        self.content_type: str = headers.get("content-type", "text/plain")
        self._done = False

    def chunks(self) -> Iterator[bytes]:
        if self._done:
            return
        yield from self._reader._read_part_data()
        self._done = True

    def read_all(self, limit: int = 1024 * 1024) -> bytes:
        data = bytearray()
        for chunk in self.chunks():
            data += chunk
            if len(data) > limit:
                raise MultipartError(f"form field {self.name!r} is larger than {limit} bytes")
        return bytes(data)

    def drain(self) -> None:
        for _ in self.chunks():
            pass


class MultipartReader:
    def __init__(self, stream: Any, boundary: bytes, chunk_size: int = CHUNK_SIZE) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        self._first = b"--" + boundary
        self._delimiter = b"\r\n--" + boundary
        self._buffer = b""
        self._eof = False
        self._finished = False
        self.bytes_read = 0
        self._current: Part | None = None

    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = self._stream.read(self._chunk_size)
        if not chunk:
            self._eof = True
            return False
        self.bytes_read += len(chunk)
        self._buffer += chunk
        return True

    def _need(self, count: int) -> None:
        while len(self._buffer) < count:
            if not self._fill():
                raise MultipartError("multipart body ended early")

    def parts(self) -> Iterator[Part]:
        # Skip any preamble up to the first boundary.
        while True:
            index = self._buffer.find(self._first)
            if index >= 0:
                self._buffer = self._buffer[index + len(self._first) :]
                break
            self._buffer = self._buffer[-len(self._first) :]
            if not self._fill():
                raise MultipartError("multipart boundary not found")
        while not self._finished:
            self._need(2)
            if self._buffer[:2] == b"--":
                self._finished = True
                return
            if self._buffer[:2] != b"\r\n":
                raise MultipartError("malformed multipart boundary line")
            self._buffer = self._buffer[2:]
            headers = self._read_headers()
            part = Part(self, headers)
            self._current = part
            yield part
            part.drain()

    def _read_headers(self) -> dict[str, str]:
        while True:
            index = self._buffer.find(b"\r\n\r\n")
            if index >= 0:
                break
            if len(self._buffer) > MAX_PART_HEADERS:
                raise MultipartError("multipart part headers too large")
            if not self._fill():
                raise MultipartError("multipart body ended inside part headers")
        raw, self._buffer = self._buffer[:index], self._buffer[index + 4 :]
        headers: dict[str, str] = {}
        for line in raw.decode("utf-8", "replace").split("\r\n"):
            if ":" in line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        return headers

    def _read_part_data(self) -> Iterator[bytes]:
        delimiter = self._delimiter
        keep = len(delimiter) - 1
        while True:
            index = self._buffer.find(delimiter)
            if index >= 0:
                data, self._buffer = self._buffer[:index], self._buffer[index + len(delimiter) :]
                if data:
                    yield data
                return
            if len(self._buffer) > keep:
                cut = len(self._buffer) - keep
                data, self._buffer = self._buffer[:cut], self._buffer[cut:]
                yield data
            if not self._fill():
                raise MultipartError("multipart body ended inside a part")
