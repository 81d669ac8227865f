"""The Kollus upload host: ``POST /kollus-upload/{token}`` with the file in field ``upload-file``.

The body is streamed through the multipart reader into a SHA-256 and a byte count (the bytes
are discarded), so a 1 GiB upload needs constant memory. The URL is single-use and expires.
Browsers post here directly, so every answer carries CORS headers and OPTIONS is answered.
"""

from __future__ import annotations

import hashlib
import html
from typing import Any

from . import library
from .http import HttpError, Request, Response, json_response
from .multipart import MultipartError
from .routing import Route
from .timestamps import now

FILE_FIELD = "upload-file"


def _cors(response: Response, request: Request) -> Response:
    response.header("Access-Control-Allow-Origin", request.header("Origin") or "*")
    response.header("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
    response.header(
        "Access-Control-Allow-Headers",
        request.header("Access-Control-Request-Headers") or "Content-Type, X-Requested-With",
    )
    response.header("Access-Control-Max-Age", "600")
    response.header("Vary", "Origin")
    return response


def _error(request: Request, status: int, message: str) -> HttpError:
    return HttpError(_cors(json_response({"error": 1, "message": message}, status), request))


def preflight(app: Any, request: Request) -> Response:
    return _cors(Response(204), request)


def _claim_ticket(app: Any, request: Request, token: str) -> dict[str, Any]:
    """Mark the ticket as in use under the lock, so two concurrent posts cannot both win."""
    with app.state.lock:
        ticket = app.state.tickets.get(token)
        if ticket is None:
            raise _error(request, 404, "Unknown upload URL.")
        if ticket["status"] == "used":
            raise _error(request, 410, "This upload URL has already been used.")
        if ticket["status"] == "receiving":
            raise _error(request, 409, "An upload to this URL is in progress.")
        if ticket["expires_at"] < now():
            raise _error(request, 410, "This upload URL has expired.")
        ticket["status"] = "receiving"
        ticket["progress"] = 0
        return ticket


def receive_upload(app: Any, request: Request) -> Response:
    try:
        return _receive(app, request)
    except HttpError:
        # Read the rest of a refused body, so the client gets to read our answer instead of a
        # connection reset while it is still sending.
        _drain(request)
        raise


def _drain(request: Request) -> None:
    while request.stream.read(1024 * 1024):
        pass


def _receive(app: Any, request: Request) -> Response:
    token = request.route_params["token"]
    if request.content_type != "multipart/form-data":
        raise _error(request, 400, "The upload must be multipart/form-data.")
    ticket = _claim_ticket(app, request, token)
    try:
        result = _stream(request, ticket)
    except (MultipartError, OSError, ValueError) as exc:
        with app.state.lock:
            ticket["status"] = "open"  # nothing landed: the client may try again
        raise _error(request, 400, f"Upload failed: {exc}") from exc
    if result is None:
        with app.state.lock:
            ticket["status"] = "open"
        raise _error(request, 400, f"The file field must be named {FILE_FIELD!r}.")
    filename, size, digest, fields = result
    with app.state.lock:
        ticket["status"] = "used"
        ticket["progress"] = 100
    row = library.create_uploaded_media(app, ticket, filename, size, digest)
    wants_json = "application/json" in (
        fields.get("accept", "") + (request.query("accept") or "") + request.header("Accept")
    )
    if wants_json:
        payload = {
            "error": 0,
            "message": "File upload success.",
            "result": {
                "upload_file_key": row["upload_file_key"],
                "size": size,
                "sha256": digest,
                "filename": filename,
            },
        }
        return _cors(json_response(payload), request)
    page = (
        f"<!DOCTYPE html><html><body><p>Upload complete: {html.escape(filename)}</p></body></html>"
    )
    return _cors(
        Response(200, page.encode(), [("Content-Type", "text/html; charset=utf-8")]), request
    )


def _stream(
    request: Request, ticket: dict[str, Any]
) -> tuple[str, int, str, dict[str, str]] | None:
    total = request.content_length or 0
    reader = request.multipart()
    fields: dict[str, str] = {}
    found = None
    for part in reader.parts():
        if part.name == FILE_FIELD and part.filename is not None:
            digest = hashlib.sha256()
            size = 0
            for chunk in part.chunks():
                digest.update(chunk)
                size += len(chunk)
                if total:
                    ticket["progress"] = min(99, reader.bytes_read * 100 // total)
            found = (part.filename or "upload.bin", size, digest.hexdigest())
        else:
            fields[part.name] = part.read_all(limit=64 * 1024).decode("utf-8", "replace")
    if found is None:
        return None
    return (*found, fields)


def progress(app: Any, request: Request) -> Response:
    with app.state.lock:
        ticket = app.state.tickets.get(request.route_params["token"])
        if ticket is None:
            raise _error(request, 404, "Unknown upload URL.")
        value = ticket["progress"]
    return _cors(json_response({"error": 0, "message": "", "result": {"progress": value}}), request)


ROUTES = [
    Route("OPTIONS", "/kollus-upload/{token}", "kollus.upload_preflight", preflight),
    Route("OPTIONS", "/kollus-upload/{token}/progress", "kollus.upload_preflight", preflight),
    Route("POST", "/kollus-upload/{token}", "kollus.upload", receive_upload),
    Route("GET", "/kollus-upload/{token}/progress", "kollus.upload_progress", progress),
]
