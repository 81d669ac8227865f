"""The token endpoint of cache-safe playback: a signed page reference → a fresh player URL.

The page HTML (possibly served from a cache, days old) holds only a reference; the browser
asks here for a player URL when the player comes into view. The JWT is minted now, for the
viewer making this request (their ``cuid``), and never cached: ``Cache-Control: no-store``
and ``Vary: Cookie``. The video is read from the database on every request, so a video that
was withdrawn since the page was cached gets no token, in every process at once.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..accounts import KollusAccount
from ..api.errors import ConfigurationError
from ..conf import kollus_settings
from ..models import KollusVideo
from .access import player_access
from .claims import NEW_VIEWER_ATTRIBUTE, VIEWER_COOKIE, VIEWER_COOKIE_SALT, resolve_cuid
from .limits import seconds_over_limit
from .links import build_player_link, seconds_until
from .policy import lazy_page
from .references import InvalidReference, Reference, load_reference

logger = logging.getLogger("wagtail_kollus.player")


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


def _client_ip(request: HttpRequest) -> str:
    # Behind a proxy, make REMOTE_ADDR the visitor's address (see docs/player.md).
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _client_identities(request: HttpRequest, ip: str, cuid: str) -> list[str]:
    """Under which names this request counts against the per-client limit.

    A client is its session, or, without one, the viewer it is served as (its viewer cookie's
    id), at its address. A client that arrived with neither also counts under its address and
    user agent: clients that keep no cookie (scripts, apps) would otherwise be a new viewer on
    every request, each with a fresh allowance.
    """
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        return [f"{ip}|session:{session.session_key}"]
    identities = [f"{ip}|viewer:{cuid}"]
    if getattr(request, NEW_VIEWER_ATTRIBUTE, None):
        identities.append(f"{ip}|agent:{request.META.get('HTTP_USER_AGENT', '')}")
    return identities


def remember_new_viewer(request: HttpRequest, response: JsonResponse) -> None:
    """A viewer id made for a client without a session goes into a signed cookie, not a
    session row (see ``claims.default_cuid``)."""
    cuid = getattr(request, NEW_VIEWER_ATTRIBUTE, None)
    if cuid:
        response.set_signed_cookie(
            VIEWER_COOKIE,
            cuid,
            salt=VIEWER_COOKIE_SALT,
            max_age=settings.SESSION_COOKIE_AGE,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )


def _rate_limited(retry_after: int) -> JsonResponse:
    return _error(
        "rate_limited",
        _("Too many player requests; try again shortly."),
        429,
        Retry_After=str(retry_after),
    )


def _withdrawn(reference: Reference) -> JsonResponse | None:
    """A 410 when the reference's video no longer plays what the reference names.

    The row is read now, not from any cache: a video made unavailable (unpublished, deleted
    on Kollus, its media not ready), deleted, or now playing another media content key (the
    reference was signed for the old one) gets no token, however old the cached page is.
    """
    if reference.video_id is None:
        return None  # a bare media content key ({% kollus_player "key" %}): nothing to check
    video = KollusVideo.objects.filter(pk=reference.video_id).first()
    if video is None or not video.is_playable:
        return _error("unavailable", _("This video is not available right now."), 410)
    if video.media_content_key.strip() != reference.media_content_key:
        return _error(
            "video_changed", _("This video has changed; reload the page to play it."), 410
        )
    return None


@csrf_exempt  # read-only for the site: it mints a token for the caller's own session
@require_http_methods(["GET", "POST"])
def player_token(request: HttpRequest, account: KollusAccount | None = None) -> JsonResponse:
    """``{"url", "expires_at", "expires_in"}`` for a valid reference; a JSON error otherwise.

    ``account``: whose keys sign the URL (by default the settings' account; a URL pattern may
    pass another in its ``kwargs``).
    """
    # The per-IP limit comes first and counts every request, so that floods of garbage are
    # capped before they reach the database.
    ip = _client_ip(request)
    retry_after = seconds_over_limit("ip", ip, kollus_settings.PLAYER_TOKEN_RATE_LIMIT_PER_IP)
    if retry_after is not None:
        return _rate_limited(retry_after)
    try:
        reference = load_reference(_reference_from(request))
    except InvalidReference as exc:
        status = 400 if exc.code == "missing_reference" else 403
        return _error(exc.code, str(exc), status)
    refusal = _withdrawn(reference)
    if refusal is not None:
        return refusal
    try:
        cuid = resolve_cuid(request, may_create_session=False)
    except ConfigurationError as exc:
        logger.warning("Player token refused: %s", exc)
        return _error("not_configured", _("Playback is not configured."), 503)
    for client in _client_identities(request, ip, cuid):
        retry_after = seconds_over_limit(
            "client", client, kollus_settings.PLAYER_TOKEN_RATE_LIMIT
        )
        if retry_after is not None:
            return _rate_limited(retry_after)
    # The policy decides for the viewer asking now: the cached page was the same for all,
    # and so are the player options (the watermark shows this viewer's code).
    try:
        access = player_access(
            request,
            cuid,
            lazy_page(reference.page_id),
            reference.media_content_key,
            reference.mc_options,
            reference.url_params,
            reference.player_options,
            resume=reference.resume,
            allows_key_extension=reference.allows_key_extension,
        )
    except ConfigurationError as exc:
        logger.warning("Player token refused: %s", exc)
        return _error("not_configured", _("Playback is not configured."), 503)
    if not access.decision.plays:
        response = _error("refused", access.decision.message, 403)
        remember_new_viewer(request, response)
        return response
    try:
        link = build_player_link(
            access.media_content_key,
            cuid,
            mc_options=access.mc_options,
            url_params=access.url_params,
            claims=access.claims,
            intro_media_content_key=access.intro_media_content_key,
            account=account,
        )
    except ConfigurationError as exc:
        logger.warning("Player token refused: %s", exc)
        return _error("not_configured", _("Playback is not configured."), 503)
    response = _json(
        {
            "url": link.url,
            "expires_at": link.expires_at,
            # Relative, so a browser with a wrong clock still refreshes in time.
            "expires_in": seconds_until(link.expires_at),
        }
    )
    remember_new_viewer(request, response)
    return response
