"""Kollus's LMS (progress) callback, sent as a playing sandbox player would send it.

Every signed player page that plays opens a **play session** (one per page opened: its
``player_id``, the browser's ``hardware_id`` as device, the token's ``cuid`` and key, the URL's
``uservalue``s and start second ``t``). No video really plays, so a test or the demo says what
the viewer does through the control API, and the sandbox posts the LMS reports a player would,
to the ``progress`` callback URL (``--callback-url progress=URL``):

* ``POST /_sandbox/lms/sessions`` ``{"player_url": "...", "device": "phone"}``: open a session
  from a signed player URL without a browser (another device of the same viewer);
* ``POST /_sandbox/lms/sessions/{id}/watch`` ``{"from": 0, "to": 300, "every": 30, "then":
  "pause"}``: the viewer watches from ``from`` to ``to`` (seconds of the video; a ``from``
  other than the current position is a seek), a report every ``every`` seconds watched and
  one at the end (``then``: ``"pause"``, ``"stop"`` or ``"play"``, which only names it);
* ``GET /_sandbox/lms/sessions``: the sessions and the reports each sent, with the answers.

The reports are built by ``wagtail_kollus.progress.lms.build_json_data``: exactly the format the
site's endpoint assumes (``progress/lms.py``), so the assumption lives in one place.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from ..progress.intervals import merge_intervals
from ..progress.lms import build_json_data
from .http import HttpError, Request, Response, json_response
from .routing import Route

BLOCK_COUNT = 100
DEFAULT_DURATION = 600  # a media the seed gave no duration
_THEN = ("pause", "stop", "play")


@dataclass
class PlaySession:
    id: int
    cuid: str
    mckey: str  # as the player plays it (a lesson extension included)
    uservalues: dict[str, str]
    device: str
    duration: int
    position: int = 0
    player_id: str = field(default_factory=lambda: "sandbox-player-" + secrets.token_hex(6))
    started_at: int = field(default_factory=lambda: int(time.time()))
    play_time: int = 0
    watched: list[list[int]] = field(default_factory=list)  # seconds, merged
    watched_blocks: set[int] = field(default_factory=set)
    reports: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "cuid": self.cuid,
            "media_content_key": self.mckey,
            "device": self.device,
            "player_id": self.player_id,
            "duration": self.duration,
            "position": self.position,
            "reports": list(self.reports),
        }

    def watch(self, start: int, end: int) -> None:
        """Play ``[start, end)``: the blocks wholly inside what this play watched count."""
        self.watched = merge_intervals(self.watched, [(start, end)])
        size = self.duration / BLOCK_COUNT
        self.watched_blocks = {
            index
            for index in range(BLOCK_COUNT)
            if any(a <= index * size and (index + 1) * size <= b for a, b in self.watched)
        }
        self.play_time += max(0, end - start)
        self.position = end


class PlaySessions:
    """The play sessions of one sandbox (cleared by its reset)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.sessions: dict[int, PlaySession] = {}

    def reset(self) -> None:
        with self._lock:
            self.sessions = {}

    def open(
        self, *, cuid: str, mckey: str, uservalues: dict[str, str], device: str, start: int
    ) -> PlaySession:
        with self.app.state.lock:
            media = self.app.state.media_by_mckey(mckey) or {}
            duration = int(media.get("duration") or DEFAULT_DURATION)
        with self._lock:
            session = PlaySession(
                id=next(self._ids),
                cuid=cuid,
                mckey=mckey,
                uservalues=dict(uservalues),
                device=device,
                duration=duration,
                position=min(max(0, start), duration),
            )
            self.sessions[session.id] = session
        return session

    def get(self, session_id: int) -> PlaySession | None:
        with self._lock:
            return self.sessions.get(session_id)

    def send_report(self, session: PlaySession, event: str) -> dict[str, Any]:
        """Post one report to the ``progress`` callback URL; the attempt as logged."""
        url = self.app.callbacks.targets.get("progress")
        entry: dict[str, Any] = {"event": event, "position": session.position, "status": None}
        if url:
            json_data = build_json_data(
                cuid=session.cuid,
                media_content_key=session.mckey,
                uservalues=session.uservalues,
                duration=session.duration,
                position=session.position,
                watched_blocks=frozenset(session.watched_blocks),
                block_count=BLOCK_COUNT,
                start_at=session.started_at,
                play_time=session.play_time,
                reported_at=int(time.time()),
                player_id=session.player_id,
            )
            try:
                response = requests.post(
                    url, data={"json_data": json_data}, timeout=(2.0, 3.0), allow_redirects=False
                )
                entry.update(self.app.callbacks.note_player_answer("progress", response))
            except requests.RequestException as exc:
                entry.update(
                    self.app.callbacks.note_player_answer("progress", error=type(exc).__name__)
                )
        session.reports.append(entry)
        return entry


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as exc:
        raise HttpError(json_response({"message": "Body must be JSON."}, 400)) from exc
    if not isinstance(body, dict):
        raise HttpError(json_response({"message": "Body must be a JSON object."}, 400))
    return body


def _seconds(body: dict[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise HttpError(json_response({"message": f"{name} must be whole seconds ≥ 0."}, 422))
    return value


def list_sessions(app: Any, request: Request) -> Response:
    with app.lms._lock:
        sessions = [s.as_dict() for s in app.lms.sessions.values()]
    return json_response({"sessions": sessions})


def open_session(app: Any, request: Request) -> Response:
    """A session from a signed player URL (verified as the player page verifies it)."""
    from .player import PlayerRejected, verify_player_token

    body = _body(request)
    query = dict(parse_qsl(urlsplit(str(body.get("player_url", ""))).query))
    try:
        payload, item = verify_player_token(app, query.get("jwt"), query.get("custom_key"))
    except PlayerRejected as rejected:
        raise HttpError(json_response({"message": rejected.reason}, 403)) from rejected
    session = app.lms.open(
        cuid=str(payload["cuid"]),
        mckey=item["mckey"],
        uservalues={k: v for k, v in query.items() if k.startswith("uservalue")},
        device=str(body.get("device") or "sandbox-device-" + secrets.token_hex(4)),
        start=int(query["t"]) if query.get("t", "").isdigit() else 0,
    )
    return json_response({"session": session.as_dict()}, 201)


def watch(app: Any, request: Request) -> Response:
    """The viewer watches ``from`` → ``to``: reports every ``every`` seconds and at the end."""
    raw_id = request.route_params["session_id"]
    session = app.lms.get(int(raw_id)) if raw_id.isdigit() else None
    if session is None:
        raise HttpError(json_response({"message": "Unknown play session."}, 404))
    body = _body(request)
    start = _seconds(body, "from", session.position)
    end = min(_seconds(body, "to"), session.duration)
    every = _seconds(body, "every", 30) or 30
    then = body.get("then", "pause")
    if then not in _THEN or end < start:
        raise HttpError(
            json_response({"message": "to must be ≥ from; then: pause, stop or play."}, 422)
        )
    sent = []
    if start != session.position:
        session.position = start  # a seek
        sent.append(app.lms.send_report(session, "seek"))
    moment = start
    while moment < end:
        step = min(end, moment + every)
        session.watch(moment, step)
        moment = step
        sent.append(app.lms.send_report(session, "progress" if moment < end else then))
    if not sent or start == end:
        sent.append(app.lms.send_report(session, then))
    return json_response({"session": session.as_dict(), "sent": sent})


ROUTES = [
    Route(
        "GET",
        "/_sandbox/lms/sessions",
        "control.lms_sessions",
        list_sessions,
        control=True,
        summary="play sessions and the LMS (progress) reports each sent",
    ),
    Route(
        "POST",
        "/_sandbox/lms/sessions",
        "control.lms_open",
        open_session,
        control=True,
        summary='another device plays a signed player URL: {"player_url": "…", "device": "phone"}',
    ),
    Route(
        "POST",
        "/_sandbox/lms/sessions/{session_id}/watch",
        "control.lms_watch",
        watch,
        control=True,
        summary='the viewer watches: {"from": 0, "to": 300, "every": 30, "then": "pause"}',
    ),
]
