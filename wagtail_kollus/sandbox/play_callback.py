"""Kollus's play callback, asked the way Kollus asks it when a player page opens.

With a ``play`` callback URL configured (``--callback-url play=URL``, ``set_callback_url("play",
URL)``), the signed player posts ``kind=1`` (before play) and then ``kind=3`` (player ready) to
it, with ``client_user_id`` (the token's ``cuid``), ``player_id`` (one per page opened),
``hardware_id`` (one per browser, kept in a cookie), ``deviceName``, ``media_content_key`` and
``uservalues`` (the URL's ``uservalue0``… as JSON). Each answer must be a JWT signed with the
security key (HS256), with the ``X-KOLLUS-USERKEY`` header equal to the custom key, and a
``data`` object whose ``kind``, ``result``, ``expiration_date``, ``expiration_playtime`` and
``content_expired`` are JSON integers (``play_section`` too, when present). Anything else is
an answer Kollus would not accept: the player says which rule it broke.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import requests

from .misrouted import misrouted
from .player import PlayerRejected, decode_hs256

PLAY_KINDS = (1, 3)
_INTEGER_FIELDS = ("kind", "result", "expiration_date", "expiration_playtime", "content_expired")


@dataclass
class PlayOutcome:
    """What the play callback decided: ``result`` 1 plays (``play_section`` limits it)."""

    result: int = 1
    message: str = ""
    play_section: dict[str, int] | None = None
    answers: list[dict[str, Any]] = field(default_factory=list)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_answer(app: Any, response: requests.Response, kind: int, mckey: str) -> dict[str, Any]:
    """The ``data`` of a play callback answer, or ``PlayerRejected`` naming the broken rule."""
    if response.status_code != 200:
        # The URL missing wagtail-kollus altogether is named apart from the site's refusals.
        diagnosis = misrouted(response.status_code, response.text)
        raise PlayerRejected(f"play-callback-{diagnosis or f'status-{response.status_code}'}")
    if response.headers.get("X-KOLLUS-USERKEY") != app.config.keys.custom_key:
        raise PlayerRejected("play-callback-userkey")
    try:
        _header, payload = decode_hs256(response.text.strip(), app.config.keys.security_key)
    except PlayerRejected as rejected:
        raise PlayerRejected(f"play-callback-{rejected.reason}") from rejected
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise PlayerRejected("play-callback-no-data")
    for name in _INTEGER_FIELDS:
        if not _is_int(data.get(name)):
            raise PlayerRejected(f"play-callback-integer-{name}")
    if data["kind"] != kind or data.get("media_content_key") != mckey:
        raise PlayerRejected("play-callback-other-request")
    if data["result"] not in (0, 1):
        raise PlayerRejected("play-callback-result")
    section = data.get("play_section")
    if section is not None and not (
        isinstance(section, dict)
        and _is_int(section.get("start_time"))
        and _is_int(section.get("end_time"))
    ):
        raise PlayerRejected("play-callback-integer-play_section")
    return data


def ask_play_callback(
    app: Any, url: str, *, cuid: str, mckey: str, device: str, uservalues: dict[str, str]
) -> PlayOutcome:
    """Kind 1, then kind 3 (unless kind 1 refused): the outcome, or ``PlayerRejected``."""
    outcome = PlayOutcome()
    fields = {
        "client_user_id": cuid,
        "player_id": "sandbox-player-" + secrets.token_hex(6),
        "hardware_id": device,
        "deviceName": "Kollus sandbox player",
        "media_content_key": mckey,
        "uservalues": json.dumps(uservalues),
    }
    for kind in PLAY_KINDS:
        try:
            response = requests.post(
                url, data={"kind": str(kind), **fields}, timeout=(2.0, 3.0), allow_redirects=False
            )
        except requests.RequestException as exc:
            app.callbacks.note_player_answer("play", error=type(exc).__name__)
            raise PlayerRejected("play-callback-unreachable") from exc
        app.callbacks.note_player_answer("play", response=response)
        data = check_answer(app, response, kind, mckey)
        outcome.answers.append(data)
        if data["result"] != 1:
            outcome.result = 0
            outcome.message = str(data.get("message") or "")
            return outcome
        if data.get("play_section") is not None:
            outcome.play_section = data["play_section"]
    return outcome
