"""The public signals of wagtail-kollus: the one place site code listens to.

Every signal is sent *after* the local mirror was updated and the transaction that updated it
committed, so receivers can read consistent rows and may enqueue their own work. Receivers should
not raise; if one does, the exception is logged with the receiver's name and the other
receivers still run: a failing receiver never undoes or stalls the
sync, the callback processing or the editor's request. Site code sending these signals itself
should use :func:`send_robustly` for the same guarantee.

Keyword arguments are listed next to each signal; ``sender`` is always the model class named.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from django.dispatch import Signal

from .api.redaction import redact
from .conf import kollus_settings

logger = logging.getLogger(__name__)

# --- page → content record sync (sender: PageContentLink) ---------------------------------------
#: A page's content record now matches the page. kwargs: ``link`` (PageContentLink), ``page_id``,
#: ``content_id``, ``action`` ("create", "update", "unchanged", "skipped", "adopt", "unlink"),
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


# --- learner progress (sender: LearnerProgress; docs/progress.md) ----------------------------
# Sent from the LMS callback's request, after its write committed; each once per change.
#: A learner's progress on one video of one page changed. kwargs: ``instance`` (the row),
#: ``created`` (bool: the learner's first report for this video on this page).
progress_updated = Signal()
#: The video reached ``PROGRESS_COMPLETION_PERCENT`` for this learner on this page: sent once.
#: kwargs: ``instance``.
video_completed = Signal()
#: Every video of the page is completed by this learner (a certificate, the next lesson):
#: sent once. kwargs: ``learner_id``, ``page_id``, ``instance`` (the row completed last).
page_completed = Signal()


def send_robustly(signal: Signal, sender: Any, **kwargs: Any) -> list[tuple[Any, Any]]:
    """Send ``signal`` so no receiver can break the caller; log each receiver that raised.

    ``send_robust`` catches ``Exception`` (not ``BaseException``) per receiver and keeps going.
    The log record names the receiver and the signal and carries the traceback, passed through
    :func:`redact` because a receiver may put a URL with a token in its message. The keyword
    arguments are not logged.
    """
    responses = signal.send_robust(sender=sender, **kwargs)
    for receiver, response in responses:
        if isinstance(response, Exception):
            # The traceback is formatted here, not passed as exc_info, so it is redacted too
            # (its last line repeats the exception's message).
            trace = "".join(traceback.format_exception(response)).rstrip()
            logger.error(
                "Receiver %s of the %s signal raised an exception; the others still ran.\n%s",
                _receiver_name(receiver),
                _signal_name(signal),
                redact(trace, kollus_settings.secret_values()),
            )
    return responses


def _receiver_name(receiver: Any) -> str:
    module = getattr(receiver, "__module__", "") or ""
    name = getattr(receiver, "__qualname__", None) or type(receiver).__qualname__
    return f"{module}.{name}" if module else name


def _signal_name(signal: Signal) -> str:
    for name in __all__:
        if globals().get(name) is signal:
            return name
    return repr(signal)


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
# Not a signal: kept out of __all__, which _signal_name reads.

