"""schema.org ``VideoObject`` JSON-LD for a video on a page (``docs/player.md``).

What search engines read to show a video result: its name, description, poster, upload date
and duration (ISO 8601). Never a player URL: a Kollus player URL holds a token minted for one
viewer that expires in minutes, so ``contentUrl``/``embedUrl`` would be dead by the time a
crawler followed them, and would hand out a playable link. A video the playback policy does not
let an anonymous viewer watch in full (a private page, a course to buy, a preview only) is
marked the way Google documents for paywalled content: ``isAccessibleForFree: false`` and a
``hasPart`` ``WebPageElement`` whose ``cssSelector`` names the player.

Built from the rows the page already loaded: no query, except the policy's answer for a page.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .api.errors import ConfigurationError
from .playback.playable import playable_from
from .playback.policy import Decision, playback_policy
from .playback.viewer import Viewer

logger = logging.getLogger("wagtail_kollus.player")

# The element of the default markup (tag and block) that holds the player.
PLAYER_CSS_SELECTOR = ".kollus-player"
# Inside <script>, "</script>", "<!--" and "&" must not appear as such: the escapes of Django's
# json_script, which JSON parsers read back as the same characters.
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def iso8601_duration(seconds: int | None) -> str | None:
    """``PT1H2M3S`` for 3723 seconds; ``None`` when unknown."""
    if seconds is None or seconds < 0:
        return None
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}H" if hours else "", f"{minutes}M" if minutes else ""]
    parts.append(f"{secs}S" if secs or not (hours or minutes) else "")
    return "PT" + "".join(parts)


def _video_row(value: Any) -> Any:
    # A block value holds the row as .video; a KollusVideo is the row.
    return getattr(value, "video", None) or (value if hasattr(value, "created_at") else None)


def _upload_date(video: Any) -> datetime | None:
    if video is None:
        return None
    # Kollus's own date when the media is already loaded (reading it must cost no query).
    media = video._state.fields_cache.get("media") if hasattr(video, "_state") else None
    return getattr(media, "kollus_created_at", None) or getattr(video, "created_at", None)


def _description(video: Any, page: Any, name: str) -> str:
    text = (getattr(page, "search_description", "") or "").strip()
    if text:
        return text
    if video is not None:
        where = " / ".join(p for p in (video.content_title, video.chapter_title) if p)
        if where:
            return where
    return name


def _free_to_watch(page: Any, media_content_key: str) -> bool | None:
    """Whether an anonymous viewer plays in full (the policy decides); ``None`` if unknown."""
    try:
        decision = playback_policy().decide(Viewer(cuid="anonymous"), page, media_content_key)
    except (ConfigurationError, ValueError, TypeError) as exc:
        logger.warning("VideoObject without isAccessibleForFree: %s", exc)
        return None
    return decision.outcome == Decision.ALLOW


def video_object(
    value: Any, *, page: Any = None, request: Any = None,
    css_selector: str = PLAYER_CSS_SELECTOR,
) -> dict[str, Any] | None:
    """The ``VideoObject`` of a block value, a ``KollusVideo`` or None (nothing to mark)."""
    playable = playable_from(value)
    if playable is None or not playable.is_playable or isinstance(value, str):
        return None
    video = _video_row(value)
    name = playable.title or getattr(page, "title", "") or ""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": name,
        "description": _description(video, page, name),
    }
    if playable.poster_url:
        poster = playable.poster_url
        if request is not None and poster.startswith("/"):
            poster = request.build_absolute_uri(poster)
        data["thumbnailUrl"] = [poster]
    uploaded = _upload_date(video)
    if uploaded is not None:
        data["uploadDate"] = uploaded.isoformat()
    duration = iso8601_duration(playable.duration_seconds)
    if duration:
        data["duration"] = duration
    if _free_to_watch(page, playable.media_content_key) is False:
        data["isAccessibleForFree"] = False
        data["hasPart"] = {
            "@type": "WebPageElement",
            "isAccessibleForFree": False,
            "cssSelector": css_selector,
        }
    return data


def jsonld_script(data: dict[str, Any] | None) -> SafeString:
    """``<script type="application/ld+json">`` holding ``data``, escaped as ``json_script``
    escapes: nothing in a title can close the element."""
    if not data:
        return SafeString()
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_SCRIPT_ESCAPES)
    # Escaped above: no <, > or & is left in the text.
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))  # noqa: S308


def video_jsonld(
    value: Any, *, page: Any = None, request: Any = None,
    css_selector: str = PLAYER_CSS_SELECTOR,
) -> SafeString:
    """The JSON-LD element of a video (empty when it cannot play)."""
    return jsonld_script(
        video_object(value, page=page, request=request, css_selector=css_selector)
    )
