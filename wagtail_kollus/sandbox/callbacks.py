"""Kollus platform callbacks, sent the way Kollus sends them.

Form-encoded POSTs, one URL per kind. A delivery counts only with HTTP 200 (within
``callback_timeout``); otherwise it is retried every ``callback_retry_interval`` seconds, up to
``callback_max_retries`` more times — Kollus's own schedule is every 5 minutes, 3 more times.
Every delivery runs in its own daemon thread, so an upload answer never waits for a callback.
Deliveries scheduled before ``reset()`` are dropped (tests share one sandbox).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from .config import CALLBACK_KINDS, TARGET_KINDS
from .misrouted import misrouted


def expand_target(url: str, kind: str) -> str:
    """``{kind}`` in a target URL becomes the kind with hyphens (``channel-add``), so one
    template such as ``http://site/kollus/callbacks/{kind}/TOKEN/`` serves every kind."""
    return url.replace("{kind}", kind.replace("_", "-"))


class CallbackDispatcher:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._generation = 0
        self.targets: dict[str, str] = {}
        self.log: list[dict[str, Any]] = []
        # How the site answered the player's callbacks (play, progress), for the index page.
        self.player_answers: list[dict[str, Any]] = []
        self._session = requests.Session()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._generation += 1
            # The configured URLs may be one template for every kind (``--callback-url
            # http://site/kollus/callbacks/{kind}/TOKEN/``): expand it here as set_target does.
            self.targets = {
                kind: expand_target(url, kind)
                for kind, url in self.app.config.callback_urls.items()
                if kind in TARGET_KINDS
            }
            self.log = []
            self.player_answers = []

    def set_target(self, kind: str, url: str | None) -> None:
        """``kind`` is one of ``TARGET_KINDS`` or ``"all"`` (the platform callbacks, not the
        player's ``play``); ``url=None`` removes the target."""
        kinds = CALLBACK_KINDS if kind in ("all", "*") else (kind,)
        for name in kinds:
            if name not in TARGET_KINDS:
                raise ValueError(
                    f"unknown callback kind {kind!r}; use one of {', '.join(TARGET_KINDS)} or 'all'"
                )
        with self._lock:
            for name in kinds:
                if url:
                    self.targets[name] = expand_target(url, name)
                else:
                    self.targets.pop(name, None)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e, attempts=list(e["attempts"])) for e in self.log]

    def note_player_answer(
        self, kind: str, response: requests.Response | None = None, error: str | None = None
    ) -> dict[str, Any]:
        """Record how the site answered one of the player's callbacks (the last 100 kept)."""
        answer = _answer(response, error)
        with self._lock:
            self.player_answers = [*self.player_answers[-99:], {"kind": kind, **answer}]
        return answer

    def player_answer_log(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(a) for a in self.player_answers]

    # --- scheduling ------------------------------------------------------------------
    def later(self, delay: float, job: Callable[[], None]) -> None:
        """Run ``job`` after ``delay`` seconds in a daemon thread, unless a reset came first."""
        generation = self._generation

        def run() -> None:
            if delay and self.app.stopping.wait(delay):
                return
            if generation == self._generation:
                job()

        threading.Thread(target=run, name="sandbox-later", daemon=True).start()

    def send(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        fields = {"content_provider_key": self.app.config.keys.service_account_key, **fields}
        with self._lock:
            entry = {
                "id": next(self._ids),
                "kind": kind,
                "url": self.targets.get(kind),
                "fields": {k: str(v) for k, v in fields.items()},
                "attempts": [],
                "delivered": False,
                "gave_up": False,
                "generation": self._generation,
            }
            self.log.append(entry)
        if entry["url"]:
            threading.Thread(
                target=self._deliver, args=(entry,), name="sandbox-callback", daemon=True
            ).start()
        return entry

    def _deliver(self, entry: dict[str, Any]) -> None:
        config = self.app.config
        for attempt in range(1 + config.callback_max_retries):
            if attempt and self.app.stopping.wait(config.callback_retry_interval):
                return
            if entry["generation"] != self._generation:
                return
            started = time.time()
            try:
                answer = self._session.post(
                    entry["url"],
                    data=entry["fields"],
                    timeout=(2.0, config.callback_timeout),
                    allow_redirects=False,
                )
                result = {"at": started, **_answer(answer)}
            except requests.RequestException as exc:
                result = {"at": started, **_answer(None, type(exc).__name__)}
            with self._lock:
                entry["attempts"].append(result)
                if result["status"] == 200:
                    entry["delivered"] = True
                    return
        with self._lock:
            entry["gave_up"] = True


def _answer(response: requests.Response | None, error: str | None = None) -> dict[str, Any]:
    """One attempt's outcome: the status, or the error that stopped it, and ``diagnosis``
    (``misrouted()``) when the answer shows the URL never reached wagtail-kollus."""
    if response is None:
        return {"status": None, "error": error, "diagnosis": None}
    diagnosis = (
        misrouted(response.status_code, response.text) if response.status_code != 200 else None
    )
    return {"status": response.status_code, "error": None, "diagnosis": diagnosis}
