"""django-q2 tasks of the video lifecycle. Thin: they ask the Kollus API, update the mirror
through :mod:`.mirror`, and send the public signals once the row is committed.

Every task takes primitive arguments (ids), re-reads the database and the API, and is safe to
run twice. Views and callbacks queue them with :func:`enqueue`, which waits for the commit so
a worker never looks for a row that is not there yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import queue, signals
from ..api.errors import KollusAPIError, NotFoundError
from ..availability import apply_media, withdraw_media
from ..conf import kollus_settings
from ..models import CallbackDelivery, CallbackKind, DeliveryStatus, KollusMedia, MediaState
from .filters import is_abandoned_upload
from .mirror import MirrorChange, apply_remote_media, needs_channel_attach
from .states import UPLOAD_ABANDONED

logger = logging.getLogger(__name__)

TASK_GROUP = "wagtail_kollus.media"
# When the API has not caught up with a callback yet (Kollus caches reads), look again later.
RECHECK_DELAYS = (10, 30, 60, 300)
_CHANNEL_ACTIONS = {CallbackKind.CHANNEL_ADD: "add", CallbackKind.CHANNEL_DELETE: "delete"}


def kollus_client() -> Any:
    from ..api.vod import KollusClient

    return KollusClient.from_settings()


def enqueue_now(name: str, *args: Any) -> None:
    """Queue ``tasks.<name>(*args)`` now (outside a transaction, e.g. from a command)."""
    queue.enqueue_now(f"{__name__}.{name}", *args, group=TASK_GROUP)


def prepare_enqueue(name: str, *args: Any, using: str = DEFAULT_DB_ALIAS) -> Callable[[], None]:
    """Sign ``tasks.<name>(*args)`` now; the returned callable writes it (see
    :func:`wagtail_kollus.queue.prepare_enqueue`): the callback endpoint holds the database's
    write lock only for the ``INSERT``."""
    return queue.prepare_enqueue(f"{__name__}.{name}", *args, group=TASK_GROUP, using=using)


def enqueue(name: str, *args: Any, using: str = DEFAULT_DB_ALIAS) -> None:
    """Queue ``tasks.<name>(*args)`` so a worker sees it only once our rows are committed.

    With the ORM broker in the same database, the queue row is written inside the current
    transaction: it commits or rolls back with ours, in one commit (one fsync instead of two
    on the callback path). Any other broker (Redis…) is written to after the commit.
    """
    prepare_enqueue(name, *args, using=using)()


def schedule_later(name: str, delay: int, *args: Any) -> None:
    from django_q.models import Schedule
    from django_q.tasks import schedule

    schedule(
        f"{__name__}.{name}",
        *args,
        schedule_type=Schedule.ONCE,
        next_run=timezone.now() + timedelta(seconds=delay),
        repeats=1,
    )


def prepare_callback_processing(fingerprint: str, *, using: str) -> Callable[[], None]:
    """Prepare queuing the processing of a delivery (see :func:`prepare_enqueue`)."""
    return prepare_enqueue("process_callback", fingerprint, using=using)


# --- signals ----------------------------------------------------------------------------------


def send_lifecycle_signals(row: KollusMedia, change: MirrorChange, *, created: bool) -> None:
    """The public signals for what ``change`` did to ``row`` (sent after commit)."""
    sender = KollusMedia
    left_uploading = change.old_state == MediaState.UPLOADING and change.new_state in (
        MediaState.TRANSCODING,
        MediaState.READY,
    )
    if left_uploading or (created and change.new_state == MediaState.TRANSCODING):
        signals.send_robustly(signals.video_uploaded, sender=sender, instance=row)
    if change.state_changed and change.new_state == MediaState.READY:
        signals.send_robustly(signals.video_ready, sender=sender, instance=row)
    if change.state_changed and change.new_state == MediaState.FAILED:
        signals.send_robustly(signals.video_failed, sender=sender, instance=row)
    if not created and change.metadata_changed:
        signals.send_robustly(
            signals.video_updated,
            sender=sender,
            instance=row,
            changed_fields=list(change.changed_fields),
        )


# --- callbacks --------------------------------------------------------------------------------


def _claim(fingerprint: str) -> CallbackDelivery | None:
    """Mark the delivery as being processed; ``None`` if another worker already has it."""
    deliveries = CallbackDelivery.objects.filter(fingerprint=fingerprint)
    claimed = deliveries.filter(status=DeliveryStatus.QUEUED).update(
        status=DeliveryStatus.PROCESSING
    )
    return deliveries.get() if claimed else None


def _finish(delivery: CallbackDelivery, status: str, error: str = "") -> None:
    delivery.status = status
    delivery.error_message = error
    delivery.processed_at = timezone.now()
    delivery.save(update_fields=["status", "error_message", "processed_at"])


def _api_lags_behind(delivery: CallbackDelivery, state: str) -> bool:
    """The callback says transcoding ended but the API still says it has not."""
    return delivery.kind == CallbackKind.TRANSCODING and state in (
        MediaState.UPLOADING,
        MediaState.TRANSCODING,
    )


def process_callback(fingerprint: str, attempt: int = 0) -> str:
    """Act on one logged callback: re-read the media, update the mirror, signal.

    The delivery is named by its unique ``fingerprint``, not its id: the endpoint knows the
    fingerprint before it writes the row, so it needs no round trip for the new id.
    """
    delivery = _claim(fingerprint)
    if delivery is None:
        return "already processed"
    ufk = delivery.upload_file_key
    client = kollus_client()
    try:
        remote = client.get_media(ufk)
    except NotFoundError:
        withdraw_media(ufk)  # deleted in the console, or not listed yet: nothing plays it now
        if KollusMedia.objects.filter(upload_file_key=ufk).exists() and attempt < len(RECHECK_DELAYS):
            return _retry_later(delivery, attempt, "Kollus does not list this media yet")
        _finish(delivery, DeliveryStatus.IGNORED, _("Kollus does not know this upload file key."))
        return "ignored"
    except KollusAPIError as error:
        if error.retryable and attempt < len(RECHECK_DELAYS):
            return _retry_later(delivery, attempt, error.describe())
        _finish(delivery, DeliveryStatus.FAILED, error.describe())
        return "failed"
    if _api_lags_behind(delivery, remote.state) and attempt < len(RECHECK_DELAYS):
        return _retry_later(delivery, attempt, "The API has not caught up with the callback yet")

    channels_before = (
        KollusMedia.objects.filter(upload_file_key=ufk).values_list("channels", flat=True).first()
    )
    row = mirror_from_remote(
        ufk,
        remote,
        client=client,
        default_title=delivery.payload.get("filename", ""),
        attach=delivery.kind in (CallbackKind.UPLOAD, CallbackKind.TRANSCODING),
    )
    with transaction.atomic():
        KollusMedia.objects.filter(pk=row.pk).update(last_callback_at=delivery.received_at)
        _finish(delivery, DeliveryStatus.PROCESSED)
    if delivery.kind in _CHANNEL_ACTIONS and row.channels != channels_before:
        # A console change (our own attach already sent its signal and left nothing to change).
        signals.send_robustly(
            signals.video_channel_changed,
            sender=KollusMedia,
            instance=row,
            channel_key=delivery.payload.get("channel_key", ""),
            action=_CHANNEL_ACTIONS[delivery.kind],
        )
    return "processed"


def _retry_later(delivery: CallbackDelivery, attempt: int, reason: str) -> str:
    delivery.status = DeliveryStatus.QUEUED
    delivery.error_message = reason
    delivery.save(update_fields=["status", "error_message"])
    schedule_later("process_callback", RECHECK_DELAYS[attempt], delivery.fingerprint, attempt + 1)
    return "retry scheduled"


def mirror_from_remote(
    ufk: str, remote: Any, *, client: Any, default_title: str = "", attach: bool = False
) -> KollusMedia:
    """Create or update the row for ``ufk`` from ``remote``; signal.

    ``attach``: put a ready video in ``KOLLUS_CHANNEL_KEY`` if it is not there. Only for the
    events that end processing (upload/transcoding callbacks, refreshing a video that was not
    ready): a video someone removed from the channel in the console must stay removed. The
    attach happens before the row is saved, so the row never shows "ready" without the
    playback key it is about to get.
    """
    attached_to = ""
    deleted = KollusMedia.objects.filter(upload_file_key=ufk, state=MediaState.DELETED).exists()
    if attach and not deleted and needs_channel_attach(remote):
        attached = _attach_to_channel(ufk, client)
        if attached is not None:
            remote, attached_to = attached, kollus_settings.KOLLUS_CHANNEL_KEY
    with transaction.atomic():
        row = KollusMedia.objects.select_for_update().filter(upload_file_key=ufk).first()
        created = row is None
        if row is None:
            # A video uploaded from the Kollus console (or lost locally): mirror it now.
            row = KollusMedia(upload_file_key=ufk, title=remote.title or default_title or ufk)
        change = apply_remote_media(row, remote)
        row.save()
        apply_media(row)  # its chosen videos, in the same commit
    if row.state == MediaState.READY and row.replaces.exists():
        from .replace import complete_replacements

        complete_replacements(row, client=client)
    transaction.on_commit(lambda: send_lifecycle_signals(row, change, created=created))
    if attached_to and change.channels_changed:
        transaction.on_commit(
            lambda: signals.send_robustly(
                signals.video_channel_changed,
                sender=KollusMedia,
                instance=row,
                channel_key=attached_to,
                action="add",
            )
        )
    return row


def _attach_to_channel(ufk: str, client: Any) -> Any | None:
    """Attach and re-read (to learn the media content key); ``None`` if Kollus refused."""
    try:
        client.attach_to_channel(kollus_settings.KOLLUS_CHANNEL_KEY, ufk)
        return client.get_media(ufk)
    except KollusAPIError as error:
        # Kollus answers 404 until it has processed the upload; the channel-add callback or
        # a refresh finishes the job. The video stays without a playback key meanwhile.
        logger.info("Could not attach %s to the channel yet: %s", ufk, error.describe())
        return None


# --- editor actions ---------------------------------------------------------------------------


def refresh_media(media_id: int) -> str:
    """Re-read one media from Kollus (the library's "refresh" and the stuck-upload fix)."""
    row = KollusMedia.objects.filter(pk=media_id).exclude(state=MediaState.DELETED).first()
    if row is None or not row.upload_file_key:
        return "nothing to refresh"
    client = kollus_client()
    try:
        remote = client.get_media(row.upload_file_key)
    except NotFoundError:
        withdraw_media(row.upload_file_key)
        if is_abandoned_upload(row):
            # The browser never delivered the file and never said so (closed mid-upload).
            KollusMedia.objects.filter(pk=row.pk, state=MediaState.UPLOADING).update(
                state=MediaState.FAILED,
                error_message=str(UPLOAD_ABANDONED),
                last_refreshed_at=timezone.now(),
            )
            return "abandoned"
        KollusMedia.objects.filter(pk=row.pk).update(
            error_message=_("Kollus does not know this upload (yet)."),
            last_refreshed_at=timezone.now(),
        )
        return "not found"
    mirror_from_remote(
        row.upload_file_key, remote, client=client, attach=row.state != MediaState.READY
    )
    return "refreshed"


def push_metadata(media_id: int, attempt: int = 0) -> str:
    """Send the row's title and category to Kollus (after an edit in the library)."""
    row = KollusMedia.objects.filter(pk=media_id).exclude(state=MediaState.DELETED).first()
    if row is None or not row.upload_file_key:
        return "nothing to push"
    client = kollus_client()
    try:
        remote = client.update_media(
            row.upload_file_key, title=row.title, category_key=row.category_key or None
        )
    except KollusAPIError as error:
        if error.retryable and attempt < len(RECHECK_DELAYS):
            schedule_later("push_metadata", RECHECK_DELAYS[attempt], media_id, attempt + 1)
            return "retry scheduled"
        # The editor's values stay on the row; the library shows why Kollus has other ones.
        KollusMedia.objects.filter(pk=media_id).update(
            error_message=_("Kollus did not accept the new title/category: %(reason)s")
            % {"reason": error.describe()}
        )
        return "failed"
    mirror_from_remote(row.upload_file_key, remote, client=client)
    return "pushed"
