"""The chapter-item → Kollus key convention: which contents API items play through Kollus.

The contents API does not say how an item points at Kollus; the plugin's convention is this one
function, used by ``ChapterItem.kollus_media_content_key``, the chooser, the sync and the
availability rules alike (``docs/api-clients.md``, "Assumptions").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from .types import ChapterItem


def _kollus_hosts() -> tuple[str, ...]:
    """Hosts (besides ``*.kollus.com``) whose URLs name a Kollus mckey: the configured player."""
    # Imported here: the account module builds the API clients, which use this module.
    from ..accounts import default_account

    try:
        player = default_account().player_url
    except ImproperlyConfigured:  # Django not configured (plain-library use): *.kollus.com only
        return ()
    parts = urlsplit(player or "")
    return ((parts.hostname or "").lower(), parts.path.rstrip("/")) if parts.hostname else ()


def resolve_kollus_key(item: ChapterItem | Mapping[str, Any]) -> str | None:
    """The Kollus media content key a chapter item plays, or None if it is not a Kollus video.

    The contents API does not say how an item points at Kollus; the plugin's convention
    (docs/api-clients.md) is, in this one function:

    * ``media_url`` is ``https://<anything>.kollus.com/{mckey}`` (or the configured
      ``PLAYER_URL`` + ``/{mckey}``), optionally with a query string; or
    * ``media_source_type == "kollus"`` and ``media_url`` is the bare mckey.
    """
    if isinstance(item, Mapping):
        media_url = str(item.get("media_url") or "")
        source = str(item.get("media_source_type") or "")
    else:
        media_url, source = item.media_url, item.media_source_type
    media_url = media_url.strip()
    if not media_url:
        return None
    if "://" not in media_url:
        if source.lower() == "kollus" and "/" not in media_url:
            return media_url
        return None
    parts = urlsplit(media_url)
    host = (parts.hostname or "").lower()
    path = parts.path.rstrip("/")
    player = _kollus_hosts()
    if host == "kollus.com" or host.endswith(".kollus.com"):
        rest = path
    elif player and host == player[0] and path.startswith(player[1] + "/"):
        rest = path[len(player[1]) :]
    else:
        return None
    segments = [s for s in rest.split("/") if s]
    # Only the short form "/{mckey}" names a key; "/s?jwt=" or "/poster/..." do not.
    if len(segments) != 1 or segments[0] in ("s", "poster"):
        return None
    return segments[0]
