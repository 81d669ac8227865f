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
from collections.abc import Iterator
from typing import Any

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
        channel_delete."""
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
