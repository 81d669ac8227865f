"""The sandbox as one WSGI application: routing, auth, faults, request log.

Plain WSGI on purpose: it runs under the bundled threading server without Django, and a Django
view can mount it (``wagtail_kollus.sandbox.urls``).
"""

from __future__ import annotations

import hmac
import logging
import threading
from typing import Any

from . import contents_api, control, kollus_api, lms, player, upload
from .callbacks import CallbackDispatcher
from .config import SandboxConfig
from .faults import Fault, FaultRegistry
from .http import (
    AbortConnection,
    HttpError,
    Request,
    Response,
    html_response,
    json_response,
    status_line,
)
from .requestlog import RequestLog
from .routing import Router
from .state import SandboxState

logger = logging.getLogger(__name__)


class SandboxApp:
    def __init__(self, config: SandboxConfig | None = None, base_url: str | None = None) -> None:
        self.config = config or SandboxConfig()
        self.faults = FaultRegistry()
        self.requests = RequestLog()
        self.stopping = threading.Event()  # interrupts fault sleeps and pending callbacks
        self.router = Router(
            contents_api.ROUTES
            + kollus_api.ROUTES
            + upload.ROUTES
            + player.ROUTES
            + control.ROUTES
            + lms.ROUTES
        )
        self._state: SandboxState | None = None
        self._state_lock = threading.Lock()
        self.callbacks = CallbackDispatcher(self)
        self.lms = lms.PlaySessions(self)
        if base_url:
            self.bind(base_url)

    def bind(self, base_url: str) -> None:
        """Create the state for the public base URL (seeded media URLs point at its player)."""
        with self._state_lock:
            self._state = SandboxState(self.config, base_url)

    # --- state -------------------------------------------------------------------------
    @property
    def state(self) -> SandboxState:
        if self._state is None:
            raise RuntimeError("the sandbox state is created on the first request")
        return self._state

    def _ensure_state(self, request: Request) -> None:
        # Mounted in Django, the public base URL (host + mount point) is known only now.
        if self._state is None:
            with self._state_lock:
                if self._state is None:
                    self._state = SandboxState(self.config, request.base_url)

    def reset(self, *, reuse_ids: bool = False) -> None:
        """Back to the seed: records, media, faults, logs, callback log (``reuse_ids``: see
        :meth:`SandboxState.reset`)."""
        self.faults.clear()
        self.requests.clear()
        self.callbacks.reset()
        self.lms.reset()
        if self._state is not None:
            self.state.reset(reuse_ids=reuse_ids)

    def store_image(self, filename: str, content_type: str, data: bytes) -> str:
        """Keep an uploaded image in memory and return the URL that serves it."""
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
        # Numbered like records (from the run's id base), so an image URL a site stored in an
        # earlier run never serves another run's image.
        name = f"{self.state.next_id('image')}.{extension[:5]}"
        with self.state.lock:
            self.state.images[name] = (content_type or "application/octet-stream", data)
        return f"{self.state.base_url}/_sandbox/images/{name}"

    # --- WSGI --------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        request = Request(environ)
        self._ensure_state(request)
        response = self.handle(request)
        start_response(status_line(response.status), response.headers)
        return [response.body]

    def handle(self, request: Request) -> Response:
        route, params, other_method = self.router.match(request.method, request.path)
        if route is None:
            if other_method:
                return json_response({"message": "Method not allowed.", "error": 1}, 405)
            return json_response({"message": "Not found.", "error": 1}, 404)
        request.route_params = params
        entry = None
        fault = None
        if not route.control:
            entry = self.requests.add(
                request.method, request.path, route.endpoint, request.query_pairs
            )
            fault = self.faults.take(route.endpoint)
        try:
            response = self._run(route, request, fault)
        except AbortConnection:
            if entry is not None:
                entry["status"] = "reset"
            raise
        if entry is not None:
            entry["status"] = response.status
        return response

    def _run(self, route: Any, request: Request, fault: Fault | None) -> Response:
        if fault is not None:
            if fault.latency:
                self.stopping.wait(float(fault.latency))
            if fault.reset:
                raise AbortConnection()
            if fault.replaces_answer:
                return fault_response(fault)
        try:
            self._authenticate(route.auth, request)
            response = route.handler(self, request)
        except HttpError as exc:
            response = exc.response
        except Exception:
            logger.exception("sandbox: %s failed", route.endpoint)
            response = json_response({"message": "Sandbox internal error.", "error": 1}, 500)
        if fault is not None and fault.commit_then_timeout:
            self.stopping.wait(float(fault.commit_then_timeout))
        return response

    def _authenticate(self, kind: str | None, request: Request) -> None:
        keys = self.config.keys
        if kind == "contents":
            given = request.header("Authorization")
            scheme, _, token = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                token.strip().encode(), keys.server_key.encode()
            ):
                raise HttpError(json_response({"message": "Unauthenticated."}, 401))
        elif kind == "kollus":
            token = request.query("access_token")
            if token is None:
                token = dict(request.form_pairs()).get("access_token", "")
            if not hmac.compare_digest(token.encode(), keys.access_token.encode()):
                raise HttpError(
                    json_response({"error": 1, "message": "Invalid access token."}, 401)
                )


_FAULT_BODIES = {
    "malformed_json": ("application/json", b'{"data": [{"content_id": 1, "title": "trunc'),
    "html": (
        "text/html; charset=utf-8",
        b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>",
    ),
    "empty": ("application/json", b""),
}


def fault_response(fault: Fault) -> Response:
    status = int(fault.status or 200)
    if fault.body:
        content_type, body = _FAULT_BODIES[fault.body]
        response = Response(status, body, [("Content-Type", content_type)])
    else:
        response = json_response(
            {"message": f"Sandbox fault: HTTP {status}.", "error": 1 if status >= 400 else 0},
            status,
        )
    if fault.retry_after is not None:
        response.header("Retry-After", str(fault.retry_after))
    return response


__all__ = ["SandboxApp", "html_response"]
