"""Serve the sandbox from a Django URLconf (``wagtail_kollus.sandbox.urls``).

The Django request is handed to the same WSGI app the standalone server runs. State lives in
this process's memory, so under several worker processes each has its own sandbox: mount it in
``runserver``-style single-process setups (the demo), or run it standalone.
Settings: ``WAGTAIL_KOLLUS_SANDBOX = {"contents": 300, "callback_urls": {...}, ...}`` (any
``SandboxConfig`` field; keys as ``SandboxKeys`` fields).
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .app import SandboxApp
from .config import SandboxConfig, SandboxKeys
from .http import AbortConnection, Request

_app: SandboxApp | None = None
_lock = threading.Lock()


def get_app() -> SandboxApp:
    global _app
    with _lock:
        if _app is None:
            options = dict(getattr(settings, "WAGTAIL_KOLLUS_SANDBOX", {}) or {})
            key_fields = set(SandboxKeys.__dataclass_fields__)
            keys = SandboxKeys(**{k: options.pop(k) for k in list(options) if k in key_fields})
            _app = SandboxApp(SandboxConfig(keys=keys, **options))
        return _app


@csrf_exempt
def sandbox_view(request: HttpRequest, subpath: str = "") -> HttpResponse:
    environ: dict[str, Any] = dict(request.META)
    mount = (
        request.path[: len(request.path) - len(subpath)].rstrip("/")
        if subpath
        else request.path.rstrip("/")
    )
    environ["SCRIPT_NAME"] = mount
    environ["PATH_INFO"] = "/" + subpath
    environ["wsgi.input"] = request  # HttpRequest is file-like over the unread body
    environ.setdefault("wsgi.url_scheme", request.scheme)
    environ["HTTP_HOST"] = request.get_host()
    app = get_app()
    sandbox_request = Request(environ)
    app._ensure_state(sandbox_request)
    try:
        answer = app.handle(sandbox_request)
    except AbortConnection:
        # Django cannot drop a socket: the nearest thing is an empty 502.
        return HttpResponse(status=502)
    response = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers:
        if name.lower() == "set-cookie" and response.has_header("Set-Cookie"):
            # Django keeps one value per header name: further cookies go through its cookie
            # jar (the first stays a raw header: the jar drops attributes it does not know,
            # such as Partitioned on Python < 3.14).
            response.cookies.load(value)
        else:
            response[name] = value
    return response
