"""What a player plays, whatever it was given: a block value, a ``KollusVideo`` row or a key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..conf import kollus_settings


@dataclass(frozen=True)
class Playable:
    """What a player needs, whatever the tag was given (block value, model row or key)."""

    media_content_key: str
    title: str = ""
    is_playable: bool = True
    poster_url: str = ""
    duration_seconds: int | None = None
    mc_options: dict[str, Any] = field(default_factory=dict)
    url_params: dict[str, Any] = field(default_factory=dict)
    video_id: int | None = None
    # The block's per-viewer choices (``playback.options``: watermark code, skipping the intro).
    player_options: dict[str, Any] = field(default_factory=dict)
    # Learner progress (docs/progress.md): start where the learner stopped; whether Kollus
    # accepts the lesson extension of the key ({mckey}-{page id}) for this video.
    resume: bool = True
    allows_key_extension: bool = False


def _options(obj: Any, name: str) -> dict[str, Any]:
    """``obj.<name>()`` (or the attribute ``name``) as a dict.

    A block value builds a new dict on each call: it is kept as it is, not copied (nothing
    downstream changes a Playable's options: they are copied where they are completed). Any
    other mapping becomes a dict.
    """
    value = getattr(obj, name, None)
    if callable(value):
        value = value()
    return value if type(value) is dict else dict(value or {})


def _allows_key_extension(value: Any) -> bool:
    # Read only when progress is tracked: it may read the video's media (one query).
    return bool(kollus_settings.PROGRESS_TRACKING) and bool(
        getattr(value, "allows_key_extension", False)
    )


def playable_from(value: Any) -> Playable | None:
    """Normalise a ``KollusVideoValue``, a ``KollusVideo`` or a media content key string.

    Block values are duck-typed (``media_content_key``, ``mc_options()``, ``url_params()``…)
    so playback never imports the blocks module. ``None`` means there is nothing to show.
    """
    if value is None:
        return None
    if isinstance(value, str):
        key = value.strip()
        return Playable(media_content_key=key, is_playable=bool(key)) if key else None
    if hasattr(value, "mc_options") or hasattr(value, "url_params"):
        video = getattr(value, "video", None)
        key = getattr(value, "media_content_key", None) or ""
        return Playable(
            media_content_key=str(key),
            title=str(getattr(value, "title", "") or ""),
            is_playable=bool(key) and bool(getattr(value, "is_playable", True)),
            poster_url=str(getattr(value, "poster_url", "") or ""),
            duration_seconds=getattr(value, "duration_seconds", None),
            mc_options=_options(value, "mc_options"),
            url_params=_options(value, "url_params"),
            video_id=getattr(video, "pk", None),
            player_options=_options(value, "player_options"),
            resume=bool(getattr(value, "resume", True)),
            allows_key_extension=_allows_key_extension(value),
        )
    if hasattr(value, "media_content_key"):  # a KollusVideo (or anything shaped like one)
        key = value.media_content_key or ""
        return Playable(
            media_content_key=str(key),
            title=str(getattr(value, "title", "") or ""),
            is_playable=bool(key) and bool(getattr(value, "is_playable", True)),
            poster_url=str(getattr(value, "thumbnail_url", "") or ""),
            duration_seconds=getattr(value, "duration_seconds", None),
            video_id=getattr(value, "pk", None),
        )
    return None
