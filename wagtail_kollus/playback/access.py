"""Asking the policy for a player about to be shown, and what its answer changes in the URL.

Used by the render-time player (``markup``) and the token endpoint (``views``), so both put
the same things in the player URL: ``play_section`` for a preview, the signed play context
(``PLAY_CONTEXT_USERVALUE``) the play callback reads to ask the policy again at play time, and
the player options for this viewer (:mod:`.options`: watermark, DRM, subtitles, intro).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..conf import kollus_settings
from .options import resolve_options
from .policy import Decision, playback_policy
from .viewer import Viewer, sign_play_context


@dataclass(frozen=True)
class PlayerAccess:
    """The policy's decision for one player, and the options to sign its URL with."""

    decision: Decision
    mc_options: dict[str, Any]
    url_params: dict[str, Any]
    claims: dict[str, Any] = field(default_factory=dict)  # top-level (the watermark)
    intro_media_content_key: str = ""


def player_access(
    request: Any,
    cuid: str,
    page: Any,
    media_content_key: str,
    mc_options: Mapping[str, Any] | None = None,
    url_params: Mapping[str, Any] | None = None,
    player_options: Mapping[str, Any] | None = None,
) -> PlayerAccess:
    """Ask the policy about ``request``'s viewer of ``page``; the options for a playing URL.

    ``player_options``: the block's choices resolved for this viewer (:mod:`.options`).
    """
    viewer = Viewer.from_request(request, cuid)
    decision = playback_policy().decide(viewer, page, media_content_key)
    if not decision.plays:
        return PlayerAccess(decision=decision, mc_options={}, url_params={})
    signed = resolve_options(viewer, page, mc_options, player_options)
    options = signed.mc_options
    section = decision.play_section()
    if section is not None:
        options["play_section"] = section
    params = dict(url_params or {})
    page_id = getattr(page, "pk", None)
    # The path only if it is loaded: a lazy page's would cost a query.
    page_path = getattr(page, "__dict__", {}).get("path", "") if page_id else ""
    params[str(kollus_settings.PLAY_CONTEXT_USERVALUE)] = sign_play_context(
        viewer, page_id, media_content_key, page_path=page_path
    )
    return PlayerAccess(
        decision=decision,
        mc_options=options,
        url_params=params,
        claims=signed.claims,
        intro_media_content_key=signed.intro_media_content_key,
    )
