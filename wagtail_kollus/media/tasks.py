"""django-q2 tasks of the video lifecycle. Thin: they ask the Kollus API, update the mirror
through :mod:`.mirror`, and send the public signals once the row is committed.

Every task takes primitive arguments (ids), re-reads the database and the API, and is safe to
run twice. Views and callbacks queue them with :func:`enqueue`, which waits for the commit so
a worker never looks for a row that is not there yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import leases, queue, signals
from ..api.errors import KollusAPIError, NotFoundError
from ..api.redaction import redact
from ..availability import apply_media, withdraw_media
from ..conf import kollus_settings
from ..models import CallbackDelivery, CallbackKind, DeliveryStatus, KollusMedia, MediaState
from .filters import is_abandoned_upload
from .mirror import MirrorChange, apply_remote_media, needs_channel_attach
from .states import UPLOAD_ABANDONED

logger = logging.getLogger(__name__)

TASK_GROUP = "wagtail_kollus.media"
# When Kollus is unavailable for a metadata push, try again after these many seconds.
# (Callback deliveries are leased rows with their own delays: CALLBACK_RETRY_DELAYS.)
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
    """Run ``tasks.<name>(*args)`` once, ``delay`` seconds from now (django-q2 wakes its
    scheduler about every 30 s).

    For one-off follow-ups that have no row of their own to carry a retry (a metadata push,
    the look at Kollus after an upload). ``repeats=-1`` makes django-q2 delete the one-off
    schedule once it has queued the task; with ``repeats=1`` it would stay in the table for
    good. Leased work (syncs, callback deliveries) never comes here: see ``leases``.
    """
    from django_q.models import Schedule
    from django_q.tasks import schedule

    schedule(
        f"{__name__}.{name}",
        *args,
        schedule_type=Schedule.ONCE,
        next_run=timezone.now() + timedelta(seconds=delay),
        repeats=-1,
        # The schedule's own field (django-q2 would pass unknown keywords to the task).
        cluster=kollus_settings.Q_CLUSTER_NAME,
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


#: Deliveries a worker may still have to act on; the other statuses are final.
OPEN_STATUSES = (DeliveryStatus.QUEUED, DeliveryStatus.PROCESSING)
#: Final statuses the callback log's "Retry" reopens.
RETRYABLE_STATUSES = (DeliveryStatus.FAILED, DeliveryStatus.IGNORED)


def callback_retry_delays() -> list[float]:
    """Seconds before each retry of a delivery (``CALLBACK_RETRY_DELAYS``)."""
    return [max(0.0, float(delay)) for delay in kollus_settings.CALLBACK_RETRY_DELAYS or ()]


def _deliveries(fingerprint: str):
    return CallbackDelivery.objects.filter(fingerprint=fingerprint)


def _claim(fingerprint: str) -> tuple[CallbackDelivery, str] | None:
    """Take the lease on the delivery (``wagtail_kollus.leases``); ``None`` when there is
    nothing to do now: it is finished, another worker holds it, or its retry is not due.

    A lease whose worker stopped (killed, out of memory, a deploy) is taken over and counted
    as a failed attempt; a delivery that used up its attempts that way is failed.
    """
    taken = leases.claim(
        _deliveries(fingerprint).filter(status__in=OPEN_STATUSES),
        seconds=float(kollus_settings.CALLBACK_CLAIM_SECONDS),
        status=DeliveryStatus.PROCESSING,
    )
    if taken is None:
        return None
    delivery = leases.held(_deliveries(fingerprint), taken.token).first()
    if delivery is None:
        return None
    if taken.took_over:
        logger.warning(
            "Kollus callback delivery %s: the worker processing it stopped (attempt %s)",
            delivery.pk,
            delivery.attempts,
        )
        if delivery.attempts > len(callback_retry_delays()):
            reason = ngettext(
                "Gave up after %(count)d attempt: the worker processing this callback "
                "stopped (killed, out of memory or restarted).",
                "Gave up after %(count)d attempts: the worker processing this callback "
                "stopped each time (killed, out of memory or restarted).",
                delivery.attempts,
            ) % {"count": delivery.attempts}
            _finish(delivery, taken.token, DeliveryStatus.FAILED, reason)
            return None
    return delivery, taken.token


def _finish(delivery: CallbackDelivery, token: str, status: str, error: str = "") -> bool:
    """Record the outcome and release the lease; ``False`` if another worker took it over."""
    return leases.release(
        _deliveries(delivery.fingerprint),
        token,
        status=status,
        error_message=error,
        processed_at=timezone.now(),
        next_attempt_at=None,
    )


def _api_lags_behind(delivery: CallbackDelivery, state: str) -> bool:
    """The callback says transcoding ended but the API still says it has not."""
    return delivery.kind == CallbackKind.TRANSCODING and state in (
        MediaState.UPLOADING,
        MediaState.TRANSCODING,
    )


def _describe(error: KollusAPIError) -> str:
    """An API error as the callback log shows it (its message never holds a secret)."""
    if error.status_code is None or f"HTTP {error.status_code}" in error.message:
        return error.message
    return f"{error.message} (HTTP {error.status_code})"


def _local_reason(error: BaseException) -> str:
    """A non-API error as the log shows it: a URL in it may carry the access token."""
    return redact(str(error), kollus_settings.secret_values())


def process_callback(fingerprint: str, attempt: int = 0) -> str:
    """Act on one logged callback: re-read the media, update the mirror, signal.

    The delivery is named by its unique ``fingerprint``, not its id: the endpoint knows the
    fingerprint before it writes the row, so it needs no round trip for the new id.
    Retries are counted on the row (``attempts``); ``attempt`` is ignored, kept only so that
    jobs queued by earlier versions still run.
    """
    claimed = _claim(fingerprint)
    if claimed is None:
        return "already processed"
    delivery, token = claimed
    try:
        return _process(delivery, token)
    except Exception as error:
        if isinstance(error, KollusAPIError) and not error.retryable:
            _finish(delivery, token, DeliveryStatus.FAILED, _describe(error))
            return "failed"
        if not leases.is_transient(error):
            logger.exception("Processing Kollus callback delivery %s failed", delivery.pk)
            reason = _("Unexpected error: %(error)s") % {"error": _local_reason(error)}
            _finish(delivery, token, DeliveryStatus.FAILED, reason)
            return "failed"
        # A busy database, a reset connection, Kollus unavailable: try again later. If even
        # this write fails, the exception ends the task and the lease brings the delivery back.
        leases.recover_connections(error)
        reason = _describe(error) if isinstance(error, KollusAPIError) else _local_reason(error)
        logger.warning("Kollus callback delivery %s will be retried: %s", delivery.pk, reason)
        return _retry_later(delivery, token, reason)


def _process(delivery: CallbackDelivery, token: str) -> str:
    ufk = delivery.upload_file_key
    client = kollus_client()
    try:
        remote = client.get_media(ufk)
    except NotFoundError:
        withdraw_media(ufk)  # deleted in the console, or not listed yet: nothing plays it now
        if KollusMedia.objects.filter(upload_file_key=ufk).exists() and _can_retry(delivery):
            return _retry_later(delivery, token, _("Kollus does not list this media yet."))
        _finish(
            delivery, token, DeliveryStatus.IGNORED, _("Kollus does not know this upload file key.")
        )
        return "ignored"
    if _api_lags_behind(delivery, remote.state) and _can_retry(delivery):
        return _retry_later(
            delivery, token, _("The Kollus API has not caught up with the callback yet.")
        )

    channels_before = (
        KollusMedia.objects.filter(upload_file_key=ufk).values_list("channels", flat=True).first()
    )
    row = mirror_from_remote(
        ufk,
        remote,
        client=client,
        default_title=delivery.payload.get("filename", ""),
        attach=delivery.kind in (CallbackKind.UPLOAD, CallbackKind.TRANSCODING),
        callback_at=delivery.received_at,
    )
    _finish(delivery, token, DeliveryStatus.PROCESSED)
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


def _can_retry(delivery: CallbackDelivery) -> bool:
    return delivery.attempts < len(callback_retry_delays())


def _retry_later(delivery: CallbackDelivery, token: str, reason: str) -> str:
    """Count a failed attempt and make the delivery due again after the next delay.

    No job is queued and no django-q2 schedule is written: the sweep (``wagtail_kollus.sweep``)
    queues the delivery once ``next_attempt_at`` has passed. Once the delays are used up the
    delivery is failed, and the callback log offers "Retry".
    """
    attempts = delivery.attempts + 1
    delays = callback_retry_delays()
    if attempts > len(delays):
        given_up = ngettext(
            "Gave up after %(count)d attempt: %(reason)s",
            "Gave up after %(count)d attempts: %(reason)s",
            attempts,
        ) % {"count": attempts, "reason": reason}
        leases.release(
            _deliveries(delivery.fingerprint),
            token,
            status=DeliveryStatus.FAILED,
            error_message=given_up,
            attempts=attempts,
            processed_at=timezone.now(),
            next_attempt_at=None,
        )
        return "failed"
    leases.release(
        _deliveries(delivery.fingerprint),
        token,
        status=DeliveryStatus.QUEUED,
        error_message=reason,
        attempts=attempts,
        next_attempt_at=timezone.now() + timedelta(seconds=delays[attempts - 1]),
    )
    return "retry scheduled"


def sweep_deliveries(lost_after: float | None = None) -> int:
    """Queue every delivery that waits for a job: an expired lease, a due retry and, with
    ``lost_after`` seconds, one that nobody claimed for that long after it arrived (its job
    was lost). Called by the sweep (``wagtail_kollus.sweep``); returns how many were queued.
    """
    from django.db.models import Q

    now = timezone.now()
    waited = None
    if lost_after is not None:
        waited = Q(last_received_at__lt=now - timedelta(seconds=lost_after))
    rows = leases.waiting_for_a_job(
        CallbackDelivery.objects.filter(status__in=OPEN_STATUSES), now=now, requested_before=waited
    )
    fingerprints = list(rows.values_list("fingerprint", flat=True))
    for fingerprint in fingerprints:
        enqueue("process_callback", fingerprint)
    return len(fingerprints)


def retry_delivery(delivery: CallbackDelivery) -> bool:
    """The callback log's "Retry": process a failed (or ignored) delivery again, now.

    Its attempts start from zero. Returns ``False`` if it was not failed or ignored (anymore).
    """
    with transaction.atomic():
        reopened = CallbackDelivery.objects.filter(
            pk=delivery.pk, status__in=RETRYABLE_STATUSES
        ).update(
            status=DeliveryStatus.QUEUED,
            attempts=0,
            next_attempt_at=None,
            error_message="",
            processed_at=None,
            **leases.RELEASED,
        )
        if reopened:
            enqueue("process_callback", delivery.fingerprint)
    return bool(reopened)


def mirror_from_remote(
    ufk: str,
    remote: Any,
    *,
    client: Any,
    default_title: str = "",
    attach: bool = False,
    callback_at: datetime | None = None,
) -> KollusMedia:
    """Create or update the row for ``ufk`` from ``remote``; signal.

    ``callback_at``: when the callback that asked for this arrived; stored in the same
    commit as the state it brought (the "stuck" filter reads both).

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
        if callback_at is not None:
            row.last_callback_at = callback_at
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
