"""Run the sandbox inside a test process, and the pytest fixtures that do it.

    server = SandboxServer(contents=50, callback_delay=0.2).start()
    server.faults.set("contents.list", status=503, times=2)
    ...
    server.stop()

Fixtures (import them in ``conftest.py``): ``sandbox_server`` (one per session, so one per
xdist worker, on port 0) and ``sandbox`` (per test: points ``settings.WAGTAIL_KOLLUS`` at the
sandbox and resets records, faults, logs and callback targets afterwards).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import requests

from .app import SandboxApp
from .config import DEFAULT_CATEGORY_KEY, DEFAULT_CHANNEL_KEY, SandboxConfig, SandboxKeys
from .faults import FaultRegistry
from .server import SandboxHTTPServer

TEST_CALLBACK_TOKEN = "test-callback-token-0123456789"


class SandboxServer:
    """The sandbox on a background thread. Keyword arguments: any ``SandboxKeys`` field
    (``server_key``, ``access_token``, …) and any ``SandboxConfig`` field (``contents``,
    ``callback_delay``, ``callback_retry_interval``, ``callback_urls``, ``state_file``, …)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        key_fields = set(SandboxKeys.__dataclass_fields__)
        keys = SandboxKeys(**{k: v for k, v in options.items() if k in key_fields})
        rest = {k: v for k, v in options.items() if k not in key_fields}
        self.config = SandboxConfig(keys=keys, **rest)
        self._host = host
        self._port = port
        self._httpd: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.app: SandboxApp | None = None

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> SandboxServer:
        self.app = SandboxApp(self.config)
        self._httpd = SandboxHTTPServer(
            (self._host, self._port), self.app, verbose=self.config.verbose
        )
        host, port = self._httpd.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        # The state needs the public base URL (seeded media URLs point at the player).
        self.app.bind(self.base_url)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sandbox-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.app is not None:
            self.app.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self.app is not None and self.config.state_file:
            self.app.state.save()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- addresses and keys ---------------------------------------------------------------
    @property
    def contents_api_url(self) -> str:
        return self.base_url + "/api/public/v1"

    @property
    def kollus_api_url(self) -> str:
        return self.base_url + "/kollus"

    @property
    def player_url(self) -> str:
        return self.base_url + "/player"

    @property
    def upload_url_prefix(self) -> str:
        return self.base_url + "/kollus-upload"

    @property
    def keys(self) -> SandboxKeys:
        return self.config.keys

    def kollus_settings(self, **overrides: Any) -> dict[str, Any]:
        """A complete ``WAGTAIL_KOLLUS`` dict pointing at this sandbox."""
        keys = self.config.keys
        values = {
            "CONTENTS_API_URL": self.contents_api_url,
            "CONTENTS_API_KEY": keys.server_key,
            "DEFAULT_LANGUAGE": "ko",
            "KOLLUS_API_URL": self.kollus_api_url,
            "KOLLUS_ACCESS_TOKEN": keys.access_token,
            "KOLLUS_SECURITY_KEY": keys.security_key,
            "KOLLUS_CUSTOM_KEY": keys.custom_key,
            "KOLLUS_SERVICE_ACCOUNT_KEY": keys.service_account_key,
            "KOLLUS_CHANNEL_KEY": DEFAULT_CHANNEL_KEY,
            "KOLLUS_CATEGORY_KEY": DEFAULT_CATEGORY_KEY,
            "PLAYER_URL": self.player_url,
            "CALLBACK_TOKEN": TEST_CALLBACK_TOKEN,
        }
        values.update(overrides)
        return values

    # --- control ------------------------------------------------------------------------
    @property
    def faults(self) -> FaultRegistry:
        return self._app.faults

    def reset(self) -> None:
        self._app.reset()

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self._app.requests.entries()

    def request_count(self, endpoint: str | None = None) -> int:
        """Requests seen for one endpoint name, ``"contents.*"``-style prefixes, or all."""
        return self._app.requests.count(endpoint)

    def set_callback_url(self, kind: str, url: str | None) -> None:
        """``kind``: ``"all"`` or one of upload, transcoding, content_update, channel_add,
        channel_delete; or ``"play"``, the play callback the signed player asks (not in "all")."""
        self._app.callbacks.set_target(kind, url)

    @property
    def callbacks(self) -> list[dict[str, Any]]:
        return self._app.callbacks.entries()

    @property
    def state(self) -> Any:
        return self._app.state

    @property
    def _app(self) -> SandboxApp:
        if self.app is None:
            raise RuntimeError("SandboxServer is not started; call .start() first")
        return self.app


# --- helpers for tests that talk to the sandbox ------------------------------------------


class CallbackReceiver:
    """A real HTTP server on port 0 that records form posts and answers ``statuses`` in turn
    (the last one repeats)."""

    def __init__(self, statuses: tuple[int, ...] = (200,)) -> None:
        self.statuses = list(statuses)
        self.received: list[dict] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                with receiver._lock:
                    receiver.received.append(
                        {
                            "path": self.path,
                            "content_type": self.headers.get("Content-Type"),
                            "fields": dict(parse_qsl(body)),
                        }
                    )
                    status = (
                        receiver.statuses.pop(0)
                        if len(receiver.statuses) > 1
                        else receiver.statuses[0]
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/kollus/callbacks/secret"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(
            f"expected {count} callbacks, got {len(self.received)}: {self.received}"
        )

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def create_upload_url(sandbox: SandboxServer, **form: Any) -> dict:
    answer = requests.post(
        sandbox.kollus_api_url + "/api/upload/create-url",
        params={"access_token": sandbox.keys.access_token},
        data=form,
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def generated_chunks(size: int, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    block = bytes(range(256)) * (chunk // 256)
    sent = 0
    while sent < size:
        piece = block[: min(chunk, size - sent)]
        sent += len(piece)
        yield piece


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


# --- pytest fixtures --------------------------------------------------------------------
try:
    import pytest
except ImportError:  # pragma: no cover - the module also serves non-pytest users
    pytest = None

if pytest is not None:

    @pytest.fixture(scope="session")
    def sandbox_server() -> Iterator[SandboxServer]:
        server = SandboxServer(callback_delay=0.2, callback_retry_interval=0.2).start()
        yield server
        server.stop()

    @pytest.fixture
    def sandbox(sandbox_server: SandboxServer, settings: Any) -> Iterator[SandboxServer]:
        sandbox_server.reset()
        settings.WAGTAIL_KOLLUS = sandbox_server.kollus_settings()
        yield sandbox_server
        sandbox_server.reset()
