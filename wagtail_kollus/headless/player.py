"""The ``player`` of a video block for a headless front end: never a secret, never a 500.

Two shapes, following ``CACHE_SAFE_PLAYBACK`` as the HTML player does:

* **reference** (cache-safe playback, or no request to mint for): ``{"mode": "reference",
  "token_url", "reference"}``, the same for every viewer, so the API response may be cached;
  the front end posts the reference to the token endpoint, which asks the playback policy for
  the viewer who asks;
* **minted** (render-time signing): the policy is asked now, for the requesting viewer, and
  the answer says ``access`` (``allow``, ``preview`` or ``refuse``) with either a short-lived
  ``url`` (``expires_at``, ``expires_in``; ``preview_seconds`` for a preview) or, when refused,
  ``url: null`` and the policy's ``message``. The reference and token URL come too, so a page
  left open can fetch a new URL after this one expires.

A minted answer is per viewer: :func:`answered_per_viewer` tells the API view, which keeps the
response out of shared caches.
"""

from __future__ import annotations

import logging
from typing import Any

from django.urls import NoReverseMatch

from ..api.errors import ConfigurationError
from ..conf import kollus_settings
from ..playback.access import player_access
from ..playback.claims import resolve_cuid
from ..playback.links import build_player_link, seconds_until
from ..playback.markup import token_url as reverse_token_url
from ..playback.options import reference_options
from ..playback.playable import playable_from
from ..playback.references import sign_reference

logger = logging.getLogger("wagtail_kollus.player")

# Set on the (Django) request once an answer for this viewer was given in it.
PER_VIEWER_ATTRIBUTE = "_wagtail_kollus_per_viewer"


def _http_request(request: Any) -> Any:
    # A Django REST framework request wraps Django's: the mark goes on the one both share.
    return getattr(request, "_request", request)


def answered_per_viewer(request: Any) -> bool:
    """Whether a player URL or a refusal was given for this request's viewer."""
    return bool(getattr(_http_request(request), PER_VIEWER_ATTRIBUTE, False))


def _token_url() -> str | None:
    try:
        return reverse_token_url()
    except NoReverseMatch:
        return None  # the site did not include wagtail_kollus.urls: no endpoint to point to


def player_representation(
    value: Any, *, request: Any = None, page: Any = None
) -> dict[str, Any] | None:
    """The ``player`` of a block value (or a ``KollusVideo``); ``None`` if it cannot play.

    ``request``: the viewer's request (the API's); ``page``: the page the block is on, whose
    privacy (or the site's policy) decides.
    """
    playable = playable_from(value)
    if playable is None or not playable.is_playable:
        return None
    try:
        data: dict[str, Any] = {
            "mode": "reference",
            "token_url": _token_url(),
            "reference": sign_reference(
                playable,
                page_id=getattr(page, "pk", None),
                player_options=reference_options(playable.player_options, page),
            ),
        }
    except (TypeError, ValueError) as exc:
        logger.warning("No API player for %r: %s", playable.media_content_key, exc)
        return None
    if request is None or kollus_settings.CACHE_SAFE_PLAYBACK:
        return data
    return {**data, **_minted(playable, request, page)}


def _minted(playable: Any, request: Any, page: Any) -> dict[str, Any]:
    """The policy's answer for ``request``'s viewer, with a fresh player URL if it plays."""
    try:
        # No session row per API call: a client without one gets a viewer id of its own
        # (the token endpoint's rule; KollusPagesAPIViewSet keeps it in a signed cookie).
        cuid = resolve_cuid(request, may_create_session=False)
        access = player_access(
            request,
            cuid,
            page,
            playable.media_content_key,
            playable.mc_options,
            playable.url_params,
            playable.player_options,
        )
        setattr(_http_request(request), PER_VIEWER_ATTRIBUTE, True)
        decision = access.decision
        link = None
        if decision.plays:
            link = build_player_link(
                playable.media_content_key,
                cuid,
                mc_options=access.mc_options,
                url_params=access.url_params,
                claims=access.claims,
                intro_media_content_key=access.intro_media_content_key,
            )
    except (ConfigurationError, TypeError, ValueError) as exc:
        # Not configured, or a malformed option: the reference still works once fixed.
        logger.warning("No player URL in the API for %r: %s", playable.media_content_key, exc)
        return {}
    # A refused viewer gets every field, empty, and the policy's message: one shape to read.
    return {
        "mode": "minted",
        "access": decision.outcome,
        "url": link.url if link else None,
        "expires_at": link.expires_at if link else None,
        "expires_in": seconds_until(link.expires_at) if link else None,
        "preview_seconds": decision.preview_seconds or None,
        "message": decision.message,
    }
