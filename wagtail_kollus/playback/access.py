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
    # The key to sign into the token: the video's, or its lesson extension (learner progress).
    media_content_key: str = ""


def player_access(
    request: Any,
    cuid: str,
    page: Any,
    media_content_key: str,
    mc_options: Mapping[str, Any] | None = None,
    url_params: Mapping[str, Any] | None = None,
    player_options: Mapping[str, Any] | None = None,
    *,
    resume: bool = False,
    allows_key_extension: bool = False,
) -> PlayerAccess:
    """Ask the policy about ``request``'s viewer of ``page``; the options for a playing URL.

    ``player_options``: the block's choices resolved for this viewer (:mod:`.options`).
    With ``PROGRESS_TRACKING`` and a signed-in viewer on a page, the learner's progress also
    shapes the URL (``progress.player``): the lesson's key extension, the resume point
    (``resume``) and how far a no-skip video may be sought.
    """
    viewer = Viewer.from_request(request, cuid)
    decision = playback_policy().decide(viewer, page, media_content_key)
    if not decision.plays:
        return PlayerAccess(
            decision=decision, mc_options={}, url_params={}, media_content_key=media_content_key
        )
    signed = resolve_options(viewer, page, mc_options, player_options)
    options = signed.mc_options
    section = decision.play_section()
    if section is not None:
        options["play_section"] = section
    params = dict(url_params or {})
    page_id = getattr(page, "pk", None)
    played_key = media_content_key
    if kollus_settings.PROGRESS_TRACKING and viewer.user_id is not None and page_id:
        from ..progress.player import apply_progress  # late: progress reads models

        played_key = apply_progress(
            request,
            viewer.user_id,
            page_id,
            media_content_key,
            options,
            params,
            resume=resume,
            allows_key_extension=allows_key_extension,
        )
    # The path only if it is loaded: a lazy page's would cost a query.
    page_path = getattr(page, "__dict__", {}).get("path", "") if page_id else ""
    params[str(kollus_settings.PLAY_CONTEXT_USERVALUE)] = sign_play_context(
        viewer,
        page_id,
        played_key,
        page_path=page_path,
        base_media_content_key=media_content_key,
    )
    return PlayerAccess(
        decision=decision,
        mc_options=options,
        url_params=params,
        claims=signed.claims,
        intro_media_content_key=signed.intro_media_content_key,
        media_content_key=played_key,
    )
