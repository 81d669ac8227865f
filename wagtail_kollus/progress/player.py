"""What a learner's progress changes in their player URL (render time and token endpoint)."""

from __future__ import annotations

from typing import Any

from .intervals import watched_prefix_end
from .lessons import lesson_media_content_key, resume_position, rows_on_page


def apply_progress(
    request: Any,
    learner_id: int,
    page_id: int,
    media_content_key: str,
    mc_options: dict[str, Any],
    url_params: dict[str, Any],
    *,
    resume: bool,
    allows_key_extension: bool,
) -> str:
    """Set the resume point and no-skip window in place; return the key the player plays.

    * The lesson's extension ``{mckey}-{page id}`` where Kollus allows it (unencrypted
      media), so Kollus's own resume and statistics are per lesson too. Progress is kept per
      page either way: the signed play context names the page.
    * ``resume``: the player starts at the learner's last position on this page (Kollus's
      ``t``), over the block's own start time.
    * A no-skip video (``seek: false``) may still be sought within what the learner already
      watched from the start: ``seekable_end`` next to ``seek: false``, as Kollus's samples
      pair them (the assumption written in ``playback.options`` on the player-options
      branch), never beyond.
    """
    row = rows_on_page(request, learner_id, page_id).get(media_content_key)
    if resume:
        start = resume_position(row)
        if start > 0:
            url_params["t"] = start
    if row is not None and mc_options.get("seek") is False and "seekable_end" not in mc_options:
        prefix = watched_prefix_end(row.watched_intervals or [])
        if prefix > 0:
            mc_options["seekable_end"] = prefix
    if allows_key_extension:
        return lesson_media_content_key(media_content_key, page_id)
    return media_content_key
