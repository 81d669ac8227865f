"""The work of the video lifecycle: what the media tasks, the library and the commands do.

Each service takes an account (``wagtail_kollus.accounts``; default: the settings' account),
asks the Kollus API, updates the mirror through :mod:`.mirror` and sends the public signals
once the rows are committed. ``media.tasks`` wraps the ones the django-q2 worker runs; the
library calls some of them in the request (the "Refresh from Kollus" probe). Everything is
safe to run twice.

Callback deliveries follow the rules of their kind, which live on the kind's view class in
:mod:`.callbacks` (``CALLBACK_VIEWS``), and the lease rule of ``wagtail_kollus.leases``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import leases, signals
from ..accounts import KollusAccount, kollus_client
from ..api.errors import KollusAPIError, NotFoundError
from ..api.redaction import redact
from ..availability import apply_media, withdraw_media
from ..conf import kollus_settings
from ..messages import Message, assign, columns
from ..models import CallbackDelivery, DeliveryStatus, KollusMedia, MediaState
from .callbacks import CALLBACK_VIEWS, KollusCallbackView
from .explain import explain
from .filters import is_abandoned_upload
from .jobs import enqueue, schedule_later
from .mirror import MirrorChange, apply_remote_media, needs_channel_attach
from .states import UPLOAD_ABANDONED

logger = logging.getLogger(__name__)

# When Kollus is unavailable for a metadata push, try again after these many seconds.
# (Callback deliveries are leased rows with their own delays: CALLBACK_RETRY_DELAYS.)
RECHECK_DELAYS = (10, 30, 60, 300)

#: Deliveries a worker may still have to act on; the other statuses are final.
OPEN_STATUSES = (DeliveryStatus.QUEUED, DeliveryStatus.PROCESSING)
#: Final statuses the callback log's "Retry" reopens.
RETRYABLE_STATUSES = (DeliveryStatus.FAILED, DeliveryStatus.IGNORED)


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


# --- callback deliveries ----------------------------------------------------------------------


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
            reason = Message.ngettext(
                "Gave up after %(count)d attempt: the worker processing this callback "
                "stopped (killed, out of memory or restarted).",
                "Gave up after %(count)d attempts: the worker processing this callback "
                "stopped each time (killed, out of memory or restarted).",
                delivery.attempts,
                count=delivery.attempts,
            )
            _finish(delivery, taken.token, DeliveryStatus.FAILED, reason)
            return None
    return delivery, taken.token


def _finish(
    delivery: CallbackDelivery, token: str, status: str, error: Message | None = None
) -> bool:
    """Record the outcome and release the lease; ``False`` if another worker took it over."""
    return leases.release(
        _deliveries(delivery.fingerprint),
        token,
        status=status,
        **columns("error_message", error),
        processed_at=timezone.now(),
        next_attempt_at=None,
    )


def _describe(error: KollusAPIError) -> Message:
    """An API error as the callback log shows it (its message never holds a secret): the
    API's own words, as they came."""
    if error.status_code is None or f"HTTP {error.status_code}" in error.message:
        return Message.verbatim(error.message)
    return Message.verbatim(f"{error.message} (HTTP {error.status_code})")


def _local_reason(error: BaseException, account: KollusAccount) -> Message:
    """A non-API error as the log shows it: a URL in it may carry the access token."""
    return Message.verbatim(redact(str(error), account.secret_values()))


def process_delivery(fingerprint: str, *, account: KollusAccount | None = None) -> str:
    """Act on one logged callback: re-read the media, update the mirror, signal.

    The delivery is named by its unique ``fingerprint``, not its id: the endpoint knows the
    fingerprint before it writes the row, so it needs no round trip for the new id.
    Retries are counted on the row (``attempts``). Returns a word for the task result.
    """
    claimed = _claim(fingerprint)
    if claimed is None:
        return "already processed"
    delivery, token = claimed
    account = account or KollusAccount.from_settings()
    try:
        return _process(delivery, token, account)
    except Exception as error:
        if isinstance(error, KollusAPIError) and not error.retryable:
            _finish(delivery, token, DeliveryStatus.FAILED, _describe(error))
            return "failed"
        if not leases.is_transient(error):
            logger.exception("Processing Kollus callback delivery %s failed", delivery.pk)
            reason = Message.gettext(
                "Unexpected error: %(error)s", error=_local_reason(error, account)
            )
            _finish(delivery, token, DeliveryStatus.FAILED, reason)
            return "failed"
        # A busy database, a reset connection, Kollus unavailable: try again later. If even
        # this write fails, the exception ends the task and the lease brings the delivery back.
        leases.recover_connections(error)
        if isinstance(error, KollusAPIError):
            reason = _describe(error)
        else:
            reason = _local_reason(error, account)
        logger.warning(
            "Kollus callback delivery %s will be retried: %s", delivery.pk, reason.english()
        )
        return _retry_later(delivery, token, reason)


def _process(delivery: CallbackDelivery, token: str, account: KollusAccount) -> str:
    # A kind without a view of its own (a row another version wrote) gets the base rules.
    rules = CALLBACK_VIEWS.get(delivery.kind, KollusCallbackView)
    ufk = delivery.upload_file_key
    client = kollus_client(account)
    try:
        remote = client.get_media(ufk)
    except NotFoundError:
        withdraw_media(ufk)  # deleted in the console, or not listed yet: nothing plays it now
        if KollusMedia.objects.filter(upload_file_key=ufk).exists() and _can_retry(delivery):
            return _retry_later(
                delivery, token, Message.gettext("Kollus does not list this media yet.")
            )
        _finish(
            delivery,
            token,
            DeliveryStatus.IGNORED,
            Message.gettext("Kollus does not know this upload file key."),
        )
        return "ignored"
    if rules.api_lags_behind(remote.state) and _can_retry(delivery):
        return _retry_later(
            delivery,
            token,
            Message.gettext("The Kollus API has not caught up with the callback yet."),
        )

    channels_before = (
        KollusMedia.objects.filter(upload_file_key=ufk).values_list("channels", flat=True).first()
    )
    row = mirror_from_remote(
        ufk,
        remote,
        client=client,
        account=account,
        default_title=rules.title_hint(delivery.payload),
        attach=rules.attaches_channel,
        callback_at=delivery.received_at,
    )
    _finish(delivery, token, DeliveryStatus.PROCESSED)
    if rules.channel_action and row.channels != channels_before:
        # A console change (our own attach already sent its signal and left nothing to change).
        signals.send_robustly(
            signals.video_channel_changed,
            sender=KollusMedia,
            instance=row,
            channel_key=delivery.payload.get("channel_key", ""),
            action=rules.channel_action,
        )
    return "processed"


def _can_retry(delivery: CallbackDelivery) -> bool:
    return delivery.attempts < len(callback_retry_delays())


def _retry_later(delivery: CallbackDelivery, token: str, reason: Message) -> str:
    """Count a failed attempt and make the delivery due again after the next delay.

    No job is queued and no django-q2 schedule is written: the sweep (``wagtail_kollus.sweep``)
    queues the delivery once ``next_attempt_at`` has passed. Once the delays are used up the
    delivery is failed, and the callback log offers "Retry".
    """
    attempts = delivery.attempts + 1
    delays = callback_retry_delays()
    if attempts > len(delays):
        given_up = Message.ngettext(
            "Gave up after %(count)d attempt: %(reason)s",
            "Gave up after %(count)d attempts: %(reason)s",
            attempts,
            count=attempts,
            reason=reason,
        )
        leases.release(
            _deliveries(delivery.fingerprint),
            token,
            status=DeliveryStatus.FAILED,
            **columns("error_message", given_up),
            attempts=attempts,
            processed_at=timezone.now(),
            next_attempt_at=None,
        )
        return "failed"
    leases.release(
        _deliveries(delivery.fingerprint),
        token,
        status=DeliveryStatus.QUEUED,
        **columns("error_message", reason),
        attempts=attempts,
        next_attempt_at=timezone.now() + timedelta(seconds=delays[attempts - 1]),
    )
    return "retry scheduled"


def sweep_deliveries(
    lost_after: float | None = None, unclaimed_after: float | None = None
) -> int:
    """Queue every delivery that waits for a job: an expired lease, a due retry and, with
    ``lost_after`` seconds, one that nobody claimed for that long after it arrived (its job
    was lost; ``unclaimed_after`` instead, if given, as ``sync.tasks.sweep_outstanding``).
    Called by the sweep (``wagtail_kollus.sweep``); returns how many were queued.
    """
    now = timezone.now()
    waited = None
    if lost_after is not None:
        wait = lost_after if unclaimed_after is None else unclaimed_after
        waited = Q(last_received_at__lt=now - timedelta(seconds=wait))
    rows = leases.waiting_for_a_job(
        CallbackDelivery.objects.filter(status__in=OPEN_STATUSES),
        now=now,
        requested_before=waited,
        lost_after=lost_after,
    )
    fingerprints = list(rows.values_list("fingerprint", flat=True))
    for fingerprint in fingerprints:
        with transaction.atomic():
            leases.mark_swept(CallbackDelivery.objects.filter(fingerprint=fingerprint), now)
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
            **columns("error_message", None),
            processed_at=None,
            **leases.RELEASED,
        )
        if reopened:
            enqueue("process_callback", delivery.fingerprint)
    return bool(reopened)


# --- the mirror -------------------------------------------------------------------------------


def mirror_from_remote(
    ufk: str,
    remote: Any,
    *,
    client: Any,
    account: KollusAccount | None = None,
    default_title: str = "",
    attach: bool = False,
    callback_at: datetime | None = None,
) -> KollusMedia:
    """Create or update the row for ``ufk`` from ``remote``; signal.

    ``client`` is a client of ``account`` (default: the settings' account), whose channel
    the video plays from.

    ``callback_at``: when the callback that asked for this arrived; stored in the same
    commit as the state it brought (the "stuck" filter reads both).

    ``attach``: put a ready video in the account's channel if it is not there. Only for the
    events that end processing (see ``KollusCallbackView.attaches_channel``; refreshing a video
    that was not ready): a video someone removed from the channel in the console must stay
    removed. The attach happens before the row is saved, so the row never shows "ready"
    without the playback key it is about to get.
    """
    account = account or KollusAccount.from_settings()
    attached_to = ""
    deleted = KollusMedia.objects.filter(upload_file_key=ufk, state=MediaState.DELETED).exists()
    if attach and not deleted and needs_channel_attach(remote, account):
        attached = _attach_to_channel(ufk, client, account)
        if attached is not None:
            remote, attached_to = attached, account.kollus_channel_key
    with transaction.atomic():
        row = KollusMedia.objects.select_for_update().filter(upload_file_key=ufk).first()
        created = row is None
        if row is None:
            # A video uploaded from the Kollus console (or lost locally): mirror it now.
            row = KollusMedia(upload_file_key=ufk, title=remote.title or default_title or ufk)
        change = apply_remote_media(row, remote, account)
        if callback_at is not None:
            row.last_callback_at = callback_at
        row.save()
        apply_media(row)  # its chosen videos, in the same commit
    if row.state == MediaState.READY and row.replaces.exists():
        complete_replacements(row, client=client, account=account)
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


def _attach_to_channel(ufk: str, client: Any, account: KollusAccount) -> Any | None:
    """Attach and re-read (to learn the media content key); ``None`` if Kollus refused."""
    try:
        client.attach_to_channel(account.kollus_channel_key, ufk)
        return client.get_media(ufk)
    except KollusAPIError as error:
        # Kollus answers 404 until it has processed the upload; the channel-add callback or
        # a refresh finishes the job. The video stays without a playback key meanwhile.
        logger.info("Could not attach %s to the channel yet: %s", ufk, error.describe())
        return None


# --- replacing a source (docs/media.md, "Replace the source") ---------------------------------


def replace_source(client: Any, target: KollusMedia, source: KollusMedia) -> Any:
    """The single place that calls Kollus's replace API.

    ASSUMED API (Kollus documents replace only as a console feature): ``KollusClient.
    replace_media(target_ufk, source_upload_file_key)`` → ``POST /api/media-contents/{target}/
    replace`` with form field ``source_upload_file_key`` (path name ``media_replace`` in
    ``api/paths.py``, overridable with ``KOLLUS_API_PATHS``). The new upload stays in the
    library as its own media.
    """
    return client.replace_media(target.upload_file_key, source.upload_file_key)


def complete_replacements(
    source: KollusMedia, *, client: Any, account: KollusAccount | None = None
) -> list[KollusMedia]:
    """Point every video waiting for ``source`` at its file; return the rows replaced.

    Called once the new upload ``source`` is ready; ``client`` is a client of ``account``.
    """
    done = []
    for target in KollusMedia.objects.filter(replacement=source).exclude(state=MediaState.DELETED):
        try:
            remote = replace_source(client, target, source)
        except KollusAPIError as error:
            logger.warning("Replacing %s failed: %s", target.pk, error.describe())
            KollusMedia.objects.filter(pk=target.pk).update(
                **columns(
                    "error_message",
                    Message.gettext(
                        "Replacing the source failed: %(reason)s", reason=explain(error)
                    ),
                )
            )
            continue
        change = apply_remote_media(target, remote, account)
        target.replacement = None
        assign(target, "error_message", None)
        with transaction.atomic():
            target.save()
            # Kollus may answer with the target transcoding its new file, or with new keys:
            # its chosen videos follow in the same commit (pages read only the video rows).
            apply_media(target)
        done.append(target)
        transaction.on_commit(
            lambda row=target, fields=list(change.changed_fields): (
                signals.send_robustly(
                    signals.video_updated,
                    sender=KollusMedia,
                    instance=row,
                    changed_fields=fields,
                    replaced_by=source,
                ),
                signals.send_robustly(signals.video_ready, sender=KollusMedia, instance=row),
            )
        )
    return done


# --- editor actions ---------------------------------------------------------------------------


def refresh_media(media_id: int, *, account: KollusAccount | None = None) -> str:
    """Re-read one media from Kollus (the library's "refresh" and the stuck-upload fix)."""
    row = KollusMedia.objects.filter(pk=media_id).exclude(state=MediaState.DELETED).first()
    if row is None or not row.upload_file_key:
        return "nothing to refresh"
    account = account or KollusAccount.from_settings()
    client = kollus_client(account)
    try:
        remote = client.get_media(row.upload_file_key)
    except NotFoundError:
        withdraw_media(row.upload_file_key)
        if is_abandoned_upload(row):
            # The browser never delivered the file and never said so (closed mid-upload).
            KollusMedia.objects.filter(pk=row.pk, state=MediaState.UPLOADING).update(
                state=MediaState.FAILED,
                **columns("error_message", UPLOAD_ABANDONED),
                last_refreshed_at=timezone.now(),
            )
            return "abandoned"
        KollusMedia.objects.filter(pk=row.pk).update(
            **columns("error_message", Message.gettext("Kollus does not know this upload (yet).")),
            last_refreshed_at=timezone.now(),
        )
        return "not found"
    mirror_from_remote(
        row.upload_file_key,
        remote,
        client=client,
        account=account,
        attach=row.state != MediaState.READY,
    )
    return "refreshed"


def push_metadata(media_id: int, attempt: int = 0, *, account: KollusAccount | None = None) -> str:
    """Send the row's title and category to Kollus (after an edit in the library).

    When Kollus is unavailable, the push is scheduled again after ``RECHECK_DELAYS[attempt]``.
    """
    row = KollusMedia.objects.filter(pk=media_id).exclude(state=MediaState.DELETED).first()
    if row is None or not row.upload_file_key:
        return "nothing to push"
    account = account or KollusAccount.from_settings()
    client = kollus_client(account)
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
            **columns(
                "error_message",
                Message.gettext(
                    "Kollus did not accept the new title/category: %(reason)s",
                    reason=explain(error),
                ),
            )
        )
        return "failed"
    mirror_from_remote(row.upload_file_key, remote, client=client, account=account)
    return "pushed"
