"""Kollus's LMS (progress) callback: its format, as far as we know it, and a defensive parser.

Kollus posts a form whose field ``json_data`` is a JSON object, periodically while a video
plays and on play, pause and stop; the player retries a failed delivery. Kollus documents the
four parts and a few names (``user_info.client_user_id``, ``content_info.media_content_key``,
``start_at``, ``play_time``, ``last_play_at``, ``block_info``, ``uservalues``); the rest is
**not confirmed**. Everything this app assumes about the format is written here, once, in
:data:`ASSUMED_FORMAT`; the sandbox's player sends exactly that (``sandbox/lms.py`` builds its
payloads with :func:`build_json_data`), and a difference found against real Kollus traffic is
fixed in this module only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from .intervals import Interval, merge_intervals

#: The assumed ``json_data`` (the parts marked "assumed" are not in Kollus's documentation).
ASSUMED_FORMAT: dict[str, Any] = {
    "user_info": {
        "client_user_id": "the token's cuid (documented)",
        "player_id": "one id per player opened (documented)",
    },
    "content_info": {
        # What the player played: the token's mckey, with the lesson extension if any.
        "media_content_key": "documented",
        "start_at": "unix seconds when this play began (documented name)",
        "play_time": "seconds played in this play (documented name)",
        "last_play_at": "unix seconds of this report (documented name)",
        "duration": "the video's length in seconds (assumed)",
        "last_position": "the player's position in seconds at this report (assumed)",
    },
    # Assumed: the timeline cut into block_count equal blocks; b<i> is 1 when block i was
    # watched during this play (the player's own merge of what it played).
    "block_info": {"block_count": "N (assumed)", "b0": "0 or 1 (assumed)", "b1": "..."},
    # The player URL's uservalue0..99, as strings (documented): the signed play context rides
    # in PLAY_CONTEXT_USERVALUE.
    "uservalues": {"uservalue9": "documented"},
}

MAX_JSON_DATA_BYTES = 64 * 1024
MAX_BLOCKS = 10_000
MAX_DURATION = 48 * 3600  # a longer "video" is not one Kollus sends
_MAX_KEY_LENGTH = 200


class MalformedReport(ValueError):
    """``json_data`` is missing, not JSON, or lacks what a report needs. Never shown."""


@dataclass(frozen=True)
class LmsReport:
    """One LMS callback, checked: only what the progress store uses."""

    cuid: str
    media_content_key: str  # as the player reported it (with a lesson extension, if any)
    uservalues: dict[str, str]
    position: int | None = None
    duration: int | None = None
    reported_at: int | None = None  # unix seconds (last_play_at), if the report had one
    watched_blocks: tuple[int, ...] = ()
    block_count: int = 0
    player_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def watched_intervals(self, duration: int | None = None) -> list[Interval]:
        """The watched blocks as seconds of a video ``duration`` long (the report's own if
        ``None``); nothing when neither is known."""
        length = duration or self.duration
        if not length or not self.block_count:
            return []
        count = self.block_count
        return merge_intervals(
            [(index * length // count, (index + 1) * length // count) for index in self.watched_blocks]
        )


def _seconds(value: Any, *, limit: int) -> int | None:
    """A non-negative whole number of seconds, or ``None`` for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    number = int(value)
    return number if number <= limit else None


def _text(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return value.strip() if isinstance(value, str) and len(value) <= _MAX_KEY_LENGTH else ""


def _blocks(block_info: Any) -> tuple[int, tuple[int, ...]]:
    if not isinstance(block_info, dict):
        return 0, ()
    count = _seconds(block_info.get("block_count"), limit=MAX_BLOCKS) or 0
    watched = tuple(
        index
        for index in range(count)
        if str(block_info.get(f"b{index}", "0")) in ("1", "true", "True")
    )
    return count, watched


def parse_json_data(raw: str | bytes | None) -> LmsReport:
    """Check one ``json_data`` field; raise :class:`MalformedReport` if it cannot be used."""
    if not raw:
        raise MalformedReport("no json_data")
    if len(raw) > MAX_JSON_DATA_BYTES:
        raise MalformedReport("json_data too large")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise MalformedReport("json_data is not JSON") from exc
    if not isinstance(data, dict):
        raise MalformedReport("json_data is not an object")
    user_info = data.get("user_info")
    content_info = data.get("content_info")
    if not isinstance(user_info, dict) or not isinstance(content_info, dict):
        raise MalformedReport("user_info or content_info missing")
    cuid = _text(user_info.get("client_user_id"))
    key = _text(content_info.get("media_content_key"))
    if not cuid or not key:
        raise MalformedReport("client_user_id or media_content_key missing")
    raw_uservalues = data.get("uservalues")
    if isinstance(raw_uservalues, str):  # some players may send it as a JSON string
        try:
            raw_uservalues = json.loads(raw_uservalues)
        except ValueError:
            raw_uservalues = {}
    uservalues = {
        str(name): value
        for name, value in (raw_uservalues.items() if isinstance(raw_uservalues, dict) else ())
        if isinstance(value, str)
    }
    block_count, watched = _blocks(data.get("block_info"))
    return LmsReport(
        cuid=cuid,
        media_content_key=key,
        uservalues=uservalues,
        position=_seconds(content_info.get("last_position"), limit=MAX_DURATION),
        duration=_seconds(content_info.get("duration"), limit=MAX_DURATION) or None,
        reported_at=_seconds(content_info.get("last_play_at"), limit=2**40),
        watched_blocks=watched,
        block_count=block_count,
        player_id=_text(user_info.get("player_id")),
    )


def build_json_data(
    *,
    cuid: str,
    media_content_key: str,
    uservalues: dict[str, str],
    duration: int,
    position: int,
    watched_blocks: set[int] | frozenset[int],
    block_count: int,
    start_at: int,
    play_time: int,
    reported_at: int,
    player_id: str,
) -> str:
    """The ``json_data`` a player sends, in :data:`ASSUMED_FORMAT` (the sandbox uses it)."""
    block_info: dict[str, Any] = {"block_count": block_count}
    block_info.update({f"b{i}": 1 if i in watched_blocks else 0 for i in range(block_count)})
    return json.dumps(
        {
            "user_info": {"client_user_id": cuid, "player_id": player_id},
            "content_info": {
                "media_content_key": media_content_key,
                "start_at": start_at,
                "play_time": play_time,
                "last_play_at": reported_at,
                "duration": duration,
                "last_position": position,
            },
            "block_info": block_info,
            "uservalues": uservalues,
        }
    )
