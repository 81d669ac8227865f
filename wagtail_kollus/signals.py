"""The public signals of wagtail-kollus: the one place site code listens to.

Every signal is sent *after* the local mirror was updated and the transaction that updated it
committed, so receivers can read consistent rows and may enqueue their own work. Receivers must
not raise: a failing receiver is logged by the sender and never undoes the sync or callback.

Keyword arguments are listed next to each signal; ``sender`` is always the model class named.
"""

from __future__ import annotations

from django.dispatch import Signal

# --- page → content record sync (sender: PageContentLink) ---------------------------------------
#: A page's content record now matches the page. kwargs: ``link`` (PageContentLink), ``page_id``,
#: ``content_id``, ``action`` ("create", "update", "unchanged", "status", "adopt", "unlink"),
#: ``fields`` (list of field names sent; empty when nothing changed).
content_synced = Signal()

#: A sync gave up (after the retry horizon, or at once for 401/422). kwargs: ``link``,
#: ``page_id``, ``content_id`` (may be None), ``error`` (dict: error, message, status_code,
#: field_errors), ``retryable`` (bool: whether "retry now" may help without changing the page).
sync_failed = Signal()

# --- Kollus media (sender: KollusMedia; kwargs always include ``instance``, the row) ----------
# These are sent from the background worker (never from the request that received a Kollus
# callback). The media feature defined their arguments first; they are kept as it wrote them.
#: A source file reached Kollus (the upload callback); transcoding starts next.
video_uploaded = Signal()
#: Transcoding finished; the video can be played. Also sent after a replaced source is ready.
video_ready = Signal()
#: Transcoding failed (``instance.error_message`` says why, when Kollus said).
video_failed = Signal()
#: The media was attached to or detached from a channel. kwargs: ``channel_key``, ``action``.
video_channel_changed = Signal()
#: Title, category or other metadata changed. kwargs: ``changed_fields`` (list of field names).
video_updated = Signal()
#: The media was deleted on Kollus and marked deleted locally.
video_deleted = Signal()

__all__ = [
    "content_synced",
    "sync_failed",
    "video_channel_changed",
    "video_deleted",
    "video_failed",
    "video_ready",
    "video_updated",
    "video_uploaded",
]
