"""The token endpoint of cache-safe playback: a signed page reference → a fresh player URL.

The page HTML (possibly served from a cache, days old) holds only a reference; the browser
asks here for a player URL when the player comes into view. The JWT is minted now, for the
viewer making this request (their ``cuid``), and never cached: ``Cache-Control: no-store``
and ``Vary: Cookie``. Clients are rate limited per IP + session and per IP.
"""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Any

from django.core.cache import caches
from django.http import HttpRequest, JsonResponse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..api.errors import ConfigurationError
from ..conf import kollus_settings
from ..player import (
    InvalidReference,
    build_player_link,
    load_reference,
    resolve_cuid,
    seconds_until,
)

logger = logging.getLogger("wagtail_kollus.player")

_RATE_KEY_PREFIX = "wagtail_kollus:player-token"


def _json(data: dict[str, Any], status: int = 200, **headers: str) -> JsonResponse:
    response = JsonResponse(data, status=status)
    # A minted URL is per viewer and short-lived: no browser, proxy or CDN may keep it.
    add_never_cache_headers(response)
    patch_vary_headers(response, ("Cookie",))
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _error(code: str, message: str, status: int, **headers: str) -> JsonResponse:
    return _json({"error": code, "message": message}, status=status, **headers)


def _reference_from(request: HttpRequest) -> str:
    if request.method == "GET":
        return request.GET.get("reference", "")
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return ""
        return str(body.get("reference", "")) if isinstance(body, dict) else ""
    return request.POST.get("reference", "")


def _counted_over_limit(scope: str, identity: str, limit: Any) -> int | None:
    """Count one request for ``identity``; return seconds to wait if over ``limit``, else None.

    Fixed windows of ``PLAYER_TOKEN_RATE_WINDOW`` seconds, shared by every process through
    Django's cache (``add`` then ``incr`` is atomic on Redis and Memcached). Identities are
    hashed so that no address is stored in the cache in clear. A limit of 0 switches it off.
    """
    if not limit:
        return None
    window = max(1, int(kollus_settings.PLAYER_TOKEN_RATE_WINDOW))
    now = time.time()
    # An explicit algorithm (Django 6.x warns that the sha1 default will change); these keys
    # live one window, so sha256 costs nothing but one window's counts at the upgrade.
    digest = salted_hmac(_RATE_KEY_PREFIX, identity, algorithm="sha256").hexdigest()[:32]
    key = f"{_RATE_KEY_PREFIX}:{scope}:{digest}:{int(now // window)}"
    cache = caches[kollus_settings.RATE_LIMIT_CACHE]
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: count from here
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count <= int(limit):
        return None
    return max(1, math.ceil(window - (now % window)))


def _client_ip(request: HttpRequest) -> str:
    # Behind a proxy, make REMOTE_ADDR the visitor's address (see docs/player.md).
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _session_key(request: HttpRequest) -> str:
    """The caller's session key, creating the session now if this is their first request,
    so that the first and later requests of one visitor count in the same bucket."""
    session = getattr(request, "session", None)
    if session is None:
        return ""
    if not session.session_key:
        session.save()
    return session.session_key or ""


def _rate_limited(retry_after: int) -> JsonResponse:
    return _error(
        "rate_limited",
        _("Too many player requests; try again shortly."),
        429,
        Retry_After=str(retry_after),
    )


@csrf_exempt  # read-only for the site: it mints a token for the caller's own session
@require_http_methods(["GET", "POST"])
def player_token(request: HttpRequest) -> JsonResponse:
    """``{"url", "expires_at", "expires_in"}`` for a valid reference; a JSON error otherwise."""
    # The per-IP counter comes first and counts every request, so that floods of garbage or of
    # cookie-less requests are capped before they touch the session store.
    ip = _client_ip(request)
    retry_after = _counted_over_limit("ip", ip, kollus_settings.PLAYER_TOKEN_RATE_LIMIT_PER_IP)
    if retry_after is not None:
        return _rate_limited(retry_after)
    try:
        reference = load_reference(_reference_from(request))
    except InvalidReference as exc:
        status = 400 if exc.code == "missing_reference" else 403
        return _error(exc.code, str(exc), status)
    if reference.video_id is not None and not _video_still_playable(reference.video_id):
        return _error("unavailable", _("This video is not available right now."), 410)
    try:
        cuid = resolve_cuid(request)
    except ConfigurationError as exc:
        logger.warning("Player token refused: %s", exc)
        return _error("not_configured", _("Playback is not configured."), 503)
    client = f"{ip}|{_session_key(request)}"
    retry_after = _counted_over_limit("client", client, kollus_settings.PLAYER_TOKEN_RATE_LIMIT)
    if retry_after is not None:
        return _rate_limited(retry_after)
    try:
        link = build_player_link(
            reference.media_content_key,
            cuid,
            mc_options=reference.mc_options,
            url_params=reference.url_params,
        )
    except ConfigurationError as exc:
        logger.warning("Player token refused: %s", exc)
        return _error("not_configured", _("Playback is not configured."), 503)
    return _json(
        {
            "url": link.url,
            "expires_at": link.expires_at,
            # Relative, so a browser with a wrong clock still refreshes in time.
            "expires_in": seconds_until(link.expires_at),
        }
    )


def _video_still_playable(video_id: int) -> bool:
    """A cached page may outlive its video: refuse tokens once the chosen video is gone
    (unpublished, deleted on Kollus). A row removed entirely is not a reason to refuse."""
    from ..models import KollusVideo

    video = KollusVideo.objects.filter(pk=video_id).select_related("media").first()
    return video is None or video.is_playable
