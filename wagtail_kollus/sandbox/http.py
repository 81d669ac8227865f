"""Tiny request/response primitives of the sandbox's WSGI application.

The sandbox is a plain WSGI app (no Django needed), so it carries its own small request object:
query parsing that understands the three array spellings the contents API accepts, JSON and
form bodies, and a streaming multipart reader for uploads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from .multipart import MultipartReader, parse_options_header

MAX_SMALL_BODY = 16 * 1024 * 1024  # JSON/form bodies; uploads are streamed instead

_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Status')}"


class AbortConnection(Exception):
    """Raised by the app to make the server drop the socket without answering (a fault)."""


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str, value: str) -> Response:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        self.headers.append((name, value))
        return self


def json_response(payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(status, body, [("Content-Type", "application/json")])


def html_response(html: str, status: int = 200) -> Response:
    return Response(status, html.encode("utf-8"), [("Content-Type", "text/html; charset=utf-8")])


class HttpError(Exception):
    """An error answer; handlers raise it and the app renders ``response``."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class Request:
    """One incoming request, read lazily from a WSGI environ."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.method: str = environ.get("REQUEST_METHOD", "GET").upper()
        self.path: str = environ.get("PATH_INFO", "") or "/"
        self.query_string: str = environ.get("QUERY_STRING", "")
        self.query_pairs: list[tuple[str, str]] = parse_qsl(
            self.query_string, keep_blank_values=True
        )
        self.route_params: dict[str, str] = {}
        self._body: bytes | None = None

    # --- addressing -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """Scheme, host and mount point (SCRIPT_NAME) as the client sees them."""
        env = self.environ
        host = (
            env.get("HTTP_HOST")
            or f"{env.get('SERVER_NAME', '127.0.0.1')}:{env.get('SERVER_PORT', '80')}"
        )
        script = env.get("SCRIPT_NAME", "").rstrip("/")
        return f"{env.get('wsgi.url_scheme', 'http')}://{host}{script}"

    def header(self, name: str, default: str = "") -> str:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            return self.environ.get(key, default) or default
        return self.environ.get("HTTP_" + key, default)

    @property
    def content_type(self) -> str:
        return parse_options_header(self.header("Content-Type"))[0]

    @property
    def content_length(self) -> int | None:
        raw = self.header("Content-Length")
        try:
            return int(raw) if raw else None
        except ValueError:
            return None

    # --- query ------------------------------------------------------------------------
    def query(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.query_pairs:
            if key == name:
                return value
        return default

    def query_list(self, name: str) -> list[str] | None:
        """``x=1,2``, ``x[]=1&x[]=2`` and ``x=1&x=2`` all give ``["1", "2"]``; absent → None."""
        values = [v for k, v in self.query_pairs if k in (name, name + "[]")]
        if not values:
            return None
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    # --- bodies -----------------------------------------------------------------------
    @property
    def stream(self) -> Any:
        return self.environ["wsgi.input"]

    def body(self) -> bytes:
        if self._body is None:
            length = self.content_length
            if length is not None and length > MAX_SMALL_BODY:
                raise HttpError(json_response({"message": "Request body too large."}, 413))
            if length is not None:
                self._body = self.stream.read(length) if length else b""
            else:
                self._body = self.stream.read(MAX_SMALL_BODY + 1) if self._chunked else b""
                if len(self._body) > MAX_SMALL_BODY:
                    raise HttpError(json_response({"message": "Request body too large."}, 413))
        return self._body

    @property
    def _chunked(self) -> bool:
        return "chunked" in self.header("Transfer-Encoding").lower()

    def json(self) -> Any:
        raw = self.body()
        if not raw.strip():
            return {}
        return json.loads(raw.decode("utf-8"))

    def form_pairs(self) -> list[tuple[str, str]]:
        """urlencoded body pairs (the Kollus API's POST/PUT style)."""
        if self.content_type != "application/x-www-form-urlencoded":
            return []
        return parse_qsl(self.body().decode("utf-8", "replace"), keep_blank_values=True)

    def multipart(self) -> MultipartReader:
        _, options = parse_options_header(self.header("Content-Type"))
        boundary = options.get("boundary")
        if not boundary:
            raise HttpError(json_response({"message": "multipart boundary missing."}, 400))
        return MultipartReader(self.stream, boundary.encode("latin-1"))


def first(pairs: Iterable[tuple[str, str]], name: str, default: str | None = None) -> str | None:
    for key, value in pairs:
        if key == name:
            return value
    return default
