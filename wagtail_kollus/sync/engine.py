"""The push: claim a page's outbox row, make its content record match the page, record it.

Rules this module keeps (docs/sync.md explains them to site developers):

* A worker holds a *claim* (a lease in the row, ``wagtail_kollus.leases``) while it pushes; no
  DB lock is held during a remote call. Other tasks for the same page see the claim and leave:
  the holder loops until ``synced_version`` caught up with ``version``, so quick publishes
  coalesce and none is lost. A claim whose worker stopped is taken over once it expires.
* A push that ``SYNC_COALESCE_MAX`` forced in the middle of a burst keeps the claim until the
  page is quiet, so the rest of the burst is one more push on the baseline that push returned
  (a new page's burst: POST + PUT, no conflict GET between them).
* The page is re-read inside the task: the record gets the *latest* published state.
* Only fields whose value changed since the last successful push are sent.
* A create is reserved (marker and time saved) before the POST; a POST that may have landed is
  never repeated blindly: the record is looked up by its marker and adopted. A POST that
  surely did not land (refused before sending, a 401/422/429 answer) releases the reservation,
  so its retry does not search. Once the POST answered, the record's id is stored before
  anything else is written.
* One record, one page. A create answered with an id another link holds (the API reused ids
  after losing its data) gives the record to the page that just created it; the other link
  forgets it and queues a new create (``_take_record``). A record that carries another
  page's marker is never written to knowingly: the conflict is recorded on the link
  (``RecordOfAnotherPage``). That holds for the pause of an unpublish or a delete too: the
  record is read before it is paused (the unpublish's conflict GET; one GET for a delete).
* The engine owns retries (the HTTP client is built with ``max_retries=0``) so that one policy
  applies: backoff, ``Retry-After`` honoured, a horizon, then "failed". Local transient errors
  (a busy database, a reset connection) are retried like an API outage; short waits sleep in
  the worker, longer ones are ``next_attempt_at`` on the row, which the sweep picks up.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_q.conf import Conf
from wagtail.models import Page

from .. import leases
from ..accounts import KollusAccount, contents_client
from ..api.contents import ContentsClient
from ..api.errors import KollusAPIError, NotFoundError, ValidationError
from ..api.redaction import redact
from ..availability import apply_content
from ..conf import kollus_settings
from ..messages import Message, as_message, columns
from ..models.sync import ContentRecord, PageContentLink, SyncAction, SyncLogEntry, SyncState
from ..signals import content_synced, send_robustly, sync_failed
from .jobs import enqueue_in_transaction, enqueue_sync, enqueue_syncs
from .mapping import ContentMapping, project, value_hash
from .problems import page_model
from .registry import get_mapping

logger = logging.getLogger("wagtail_kollus.sync")

POLICIES = ("page_wins", "remote_wins", "fail")


class EditorMessageError(KollusAPIError):
    """A failure on our side, worded for editors: ``editor_message`` is stored with the link
    and translated when shown (``wagtail_kollus.messages``); ``message`` is its English."""

    def __init__(self, message: Message | str | None = None, **kwargs: Any) -> None:
        stored = as_message(message)  # a plain string: words shown as they are
        super().__init__(stored.english() if stored else None, **kwargs)
        self.editor_message = stored or Message.verbatim(self.message)


def editor_message(error: KollusAPIError) -> Message:
    """What editors read about ``error``: our own words, or the API's as they came."""
    if isinstance(error, EditorMessageError):
        return error.editor_message
    return Message.verbatim(error.message)


class ConflictError(EditorMessageError):
    """The record changed remotely since our last push and the policy is ``fail``."""

    default_message = "The content record was changed outside Wagtail since the last sync."


class RecordOfAnotherPage(EditorMessageError):
    """The record this link points at carries another page's create marker: it is that page's
    record (the API reused an id), not this one's. Not retried: the link forgets the record
    and *Retry now* creates a new one for this page (for an unpublished or deleted page, whose
    push was a pause, there is nothing to create: it ends synced or unlinked)."""


#: ``wagtail-kollus:<page id>:<random>``: which page created a record, readable from the record.
MARKER_PREFIX = "wagtail-kollus"


def new_marker(page_key: int) -> str:
    return f"{MARKER_PREFIX}:{page_key}:{uuid.uuid4().hex[:12]}"


def marker_page_key(marker: str | None) -> int | None:
    """The page that created a record, from its marker; None for anything else."""
    prefix, _, rest = (marker or "").partition(":")
    key = rest.partition(":")[0]
    return int(key) if prefix == MARKER_PREFIX and key.isdigit() else None


@dataclass
class PushResult:
    operation: str  # create, adopt, update, unchanged, unlink, skipped
    content_id: int | None = None
    fields: list[str] = field(default_factory=list)
    overwritten: dict[str, Any] = field(default_factory=dict)
    remote_updated_at: str = ""


def make_client(account: KollusAccount | None = None) -> ContentsClient:
    # Retries are the engine's job (see module docstring): one attempt per call here.
    return contents_client(account, max_retries=0)


# --- claiming (the lease rule is wagtail_kollus.leases) --------------------------------------
def claim(page_key: int, *, force: bool = False) -> str | None:
    """Take the lease on ``page_key`` if there is work and nobody else holds it.

    A lease whose holder stopped (killed, out of memory, a deploy) is taken over: that counts
    as a failed attempt, and past ``SYNC_RETRY_HORIZON`` the page is failed instead.
    """
    rows = PageContentLink.objects.filter(
        page_key=page_key, version__gt=F("synced_version")
    ).exclude(state=SyncState.FAILED)
    taken = leases.claim(
        rows,
        seconds=float(kollus_settings.SYNC_CLAIM_SECONDS),
        respect_backoff=not force,
        on_takeover={
            "first_failure_at": Coalesce(
                F("first_failure_at"), Value(timezone.now(), output_field=DateTimeField())
            )
        },
    )
    if taken is None:
        return None
    if taken.took_over:
        return _after_takeover(page_key, taken.token)
    return taken.token


def _mine(page_key: int, token: str):
    return leases.held(PageContentLink.objects.filter(page_key=page_key), token)


def _release(page_key: int, token: str, **changes: Any) -> bool:
    return leases.release(PageContentLink.objects.filter(page_key=page_key), token, **changes)


class WorkerStopped(EditorMessageError):
    """The worker that held a page's lease stopped before it finished (found on takeover)."""

    retryable = True


def _after_takeover(page_key: int, token: str) -> str | None:
    """Log the stopped attempt ``claim`` counted; give up once the retry horizon has passed."""
    link = _mine(page_key, token).first()
    if link is None:
        return None
    error = WorkerStopped(
        Message.gettext(
            "The worker pushing this page stopped before it finished (killed, out of memory "
            "or restarted)."
        )
    )
    horizon = timedelta(seconds=float(kollus_settings.SYNC_RETRY_HORIZON))
    if link.first_failure_at and timezone.now() - link.first_failure_at >= horizon:
        _record_failure(link, token, error, final=True, counted=True)
        return None
    SyncLogEntry.objects.create(
        link=link,
        operation="error",
        content_id=link.content_id,
        error=error.describe(),
        success=False,
    )
    logger.warning("Sync of page %s: %s (attempt %s)", page_key, error.message, link.attempts)
    return token


# --- the task body ----------------------------------------------------------------------------
def sync_page(page_key: int, *, client: Any = None, account: KollusAccount | None = None) -> str:
    """Push ``page_key`` until its record matches the latest requested version.

    ``client`` (or a client of ``account``, default: the settings' account) makes the calls.

    Returns a short word for the task result (``synced``, ``retrying``, ``failed``, ``idle``).
    Never raises for remote failures: they are recorded on the row for editors.
    """
    outcome = "idle"
    owned_client = client is None
    started = time.monotonic()
    token = claim(page_key)
    if token is None:
        return outcome
    try:
        fresh_remote_stamp: str | None = None
        while token:
            link = _mine(page_key, token).first()
            if link is None:  # lease lost (expired and taken): the new holder finishes
                return outcome
            link, burst_open = _settle(link, token)
            if link is None:
                return outcome
            burst_open = burst_open and _time_left_to_follow(started)
            target_version = link.version
            try:
                client = client or make_client(account)
                result = push(link, client, fresh_remote_stamp=fresh_remote_stamp)
            except Exception as error:
                # A failure of the API, of the database or of a mapping: recorded on the row,
                # retried when it is transient. If recording fails too (the database is still
                # busy), the exception ends the task and the lease brings the page back.
                outcome, wait = _record_failure(link, token, _as_api_error(page_key, error))
                if wait is None:
                    return outcome
                time.sleep(wait)
                token = claim(page_key)
                continue
            outcome = "synced"
            _record_success(link, token, target_version, result, keep_claim=burst_open)
            fresh_remote_stamp = result.remote_updated_at or None
            # A push the deadline forced mid-burst stays with the page until the burst ends, so
            # its rest is one more push on the baseline just returned (no conflict GET).
            # Otherwise: did more publishes arrive while we pushed?
            token = _follow_burst(page_key, token) if burst_open else claim(page_key)
    finally:
        if token:
            _release(page_key, token)
        if owned_client and client is not None:
            client.close()
    return outcome


def _settle(link: PageContentLink, token: str) -> tuple[PageContentLink | None, bool]:
    """Wait until the page has been quiet for ``SYNC_COALESCE_SECONDS`` (at most
    ``SYNC_COALESCE_MAX``), so a burst of publishes becomes one push of the last one.

    Returns the re-read row (None when the lease was lost) and whether the burst is still
    going on (the deadline, not the quiet period, ended the wait).
    """
    quiet = float(kollus_settings.SYNC_COALESCE_SECONDS)
    deadline = time.monotonic() + float(kollus_settings.SYNC_COALESCE_MAX)
    while quiet > 0 and link.requested_at is not None:
        idle = (timezone.now() - link.requested_at).total_seconds()
        left = deadline - time.monotonic()
        if idle >= quiet:
            break
        if left <= 0:
            return link, True
        time.sleep(min(quiet - idle, left))
        link = _mine(link.page_key, token).first()
        if link is None:
            return None, False
    return link, False


def _time_left_to_follow(started: float) -> bool:
    """Whether this task may follow a burst once more before django-q2's ``timeout`` kills it
    (an endless stream of publishes must not pin one task). If not, the claim is released and
    the next job takes over, at the price of a conflict GET."""
    timeout = Conf.TIMEOUT
    if not timeout:
        return True
    needed = 2 * float(kollus_settings.SYNC_COALESCE_MAX)  # the follow and the next settle
    return time.monotonic() - started + needed < float(timeout)


def _follow_burst(page_key: int, token: str) -> str | None:
    """Keep the claim until the page has been quiet for ``SYNC_COALESCE_SECONDS``.

    Returns the token when another publish arrived (the caller pushes it, in the same claim,
    so on the baseline its last write returned), else releases the claim and returns what a
    fresh ``claim`` gives (a publish may land between the last look and the release).
    """
    quiet = float(kollus_settings.SYNC_COALESCE_SECONDS)
    deadline = time.monotonic() + float(kollus_settings.SYNC_COALESCE_MAX)
    while True:
        link = _mine(page_key, token).first()
        if link is None:
            return None  # lease lost: its new holder finishes
        if link.version > link.synced_version:
            return token
        idle = (timezone.now() - link.requested_at).total_seconds() if link.requested_at else quiet
        left = deadline - time.monotonic()
        if idle >= quiet or left <= 0:
            _release(page_key, token)
            return claim(page_key)
        time.sleep(min(quiet - idle, left))


def push(
    link: PageContentLink, client: Any, *, fresh_remote_stamp: str | None = None
) -> PushResult:
    """One attempt to make ``link``'s record match its page. Raises ``KollusAPIError``."""
    page = _load_page(link.page_key)
    if page is None or link.action == SyncAction.DELETE:
        return _push_deleted(link, client)
    mapping = get_mapping(page)
    if mapping is None:  # the page type stopped syncing: leave the record alone
        return PushResult("skipped", link.content_id)
    if link.content_id is None:
        if not page.live:
            return PushResult("skipped")  # never created, nothing to pause
        return _push_create(link, page, mapping, client)
    return _push_update(link, page, mapping, client, fresh_remote_stamp)


def _load_page(page_key: int) -> Any:
    page = Page.objects.filter(pk=page_key).first()
    return page.specific if page is not None else None


def _push_deleted(link: PageContentLink, client: Any) -> PushResult:
    if link.content_id is None:
        return PushResult("unlink")
    status = kollus_settings.SYNC_DELETED_STATUS
    if link.pushed_values.get("status") == status:
        return PushResult("unlink", link.content_id)  # paused already (by the unpublish)
    mapping = _mapping_of_type(link.page_type)
    # A GET before the pause, the one request a delete adds: the PUT's answer comes after the
    # write, and the contents API has no conditional write (no If-Match), so only a read first
    # keeps a delete from pausing another page's record at this id (the API reused it).
    try:
        remote = client.get_content(link.content_id, language=_record_language(link))
    except NotFoundError:
        return PushResult("unlink", link.content_id)  # deleted outside Wagtail: nothing to pause
    _check_owner(link, mapping, remote.raw or {}, written=[], page=None)
    try:
        response = client.update_content(link.content_id, {"status": status})
    except NotFoundError:
        return PushResult("unlink", link.content_id)  # deleted since the read
    # The id reused between the read and the write: the answer tells (the editors are told).
    _check_owner(link, mapping, getattr(response, "raw", None) or {}, written=["status"], page=None)
    _remember(link, {"status": status}, response)
    _mirror(response)
    return PushResult("unlink", link.content_id, ["status"], remote_updated_at=_stamp(response))


def _push_create(
    link: PageContentLink, page: Any, mapping: ContentMapping, client: Any
) -> PushResult:
    payload = mapping.build_payload(page)
    if link.create_attempted_at is not None and link.marker:
        adopted = _find_by_marker(
            client, mapping, link.marker, [link.page_title, page.title], payload.get("language")
        )
        if adopted is not None:
            # The earlier POST landed: adopt that record, then send what differs from it.
            link.content_id = adopted.content_id
            known = {k: project(adopted.raw.get(k), v) for k, v in payload.items()}
            with transaction.atomic():
                _take_record(link, adopted.content_id)
                PageContentLink.objects.filter(pk=link.pk).update(
                    content_id=adopted.content_id,
                    pushed_values=known,
                    pushed_hashes={k: value_hash(v) for k, v in known.items()},
                    remote_updated_at=_stamp(adopted),
                )
            link.pushed_values = known
            link.pushed_hashes = {k: value_hash(v) for k, v in known.items()}
            link.remote_updated_at = _stamp(adopted)
            _mirror(adopted)
            result = _push_update(link, page, mapping, client, _stamp(adopted))
            result.operation = "adopt"
            return result
    # Reserve before sending: if we die after the POST, the next attempt looks for the marker.
    marker = link.marker or new_marker(link.page_key)
    PageContentLink.objects.filter(pk=link.pk).update(
        marker=marker, create_attempted_at=timezone.now(), page_title=page.title[:255]
    )
    try:
        created = client.create_content(mapping.mark_payload(payload, marker))
    except KollusAPIError as error:
        if not error.may_have_been_applied:
            _release_reservation(link)
        raise
    # The record exists now: its id is stored before anything else can fail (the mirror's
    # write may find the database busy), so a retry updates it instead of looking for it.
    _remember(link, payload, created)
    _mirror(created)
    return PushResult(
        "create", created.content_id, list(payload), remote_updated_at=_stamp(created)
    )


def _release_reservation(link: PageContentLink) -> None:
    """The POST was not carried out (refused before sending, or answered 401/422/429…): the
    next attempt creates without searching for the marker first, since after an outage that
    would be a full-text search per page the API never saw. The marker stays for that POST."""
    try:
        PageContentLink.objects.filter(pk=link.pk).update(create_attempted_at=None)
    except DatabaseError:
        # The reservation stays, so the next attempt searches: one GET, never a duplicate.
        # The API's error, not this one, is what the push records.
        logger.warning("Sync of page %s: the create's reservation stays", link.page_key)


def _remember(link: PageContentLink, sent: dict[str, Any], response: Any) -> None:
    """Store what the API acknowledged: the base of the next diff and conflict check.

    The diff compares the page's next payload with the *hashes of what was sent*; the conflict
    check compares the record with the *values the API answered* (projected onto what was
    sent), so an API that normalises a value (HTML, order) is not mistaken for a remote edit.
    """
    answered = getattr(response, "raw", None) or {}
    acknowledged = {
        name: project(answered[name], value) if name in answered else value
        for name, value in sent.items()
    }
    new_record = response.content_id and response.content_id != link.content_id
    link.content_id = response.content_id or link.content_id
    link.pushed_values = {**link.pushed_values, **acknowledged}
    link.pushed_hashes = {**link.pushed_hashes, **{k: value_hash(v) for k, v in sent.items()}}
    link.remote_updated_at = _stamp(response)
    stored: dict[str, Any] = {
        "pushed_values": link.pushed_values,
        "pushed_hashes": link.pushed_hashes,
        "remote_updated_at": link.remote_updated_at,
    }
    with transaction.atomic():
        if new_record:
            _take_record(link, link.content_id)
            stored["content_id"] = link.content_id
        # An update leaves content_id alone: if another page's create took the id meanwhile
        # (``_take_record`` cleared it here), this link must not claim it back.
        PageContentLink.objects.filter(pk=link.pk).update(**stored)


def _take_record(link: PageContentLink, content_id: int) -> None:
    """Give ``content_id`` to ``link``: any other link holding it forgets it and is queued to
    create a new record, with a message its editors see. Call inside a transaction.

    The API just answered a create (or its adoption) with this id, so the record is
    ``link``'s: it carries ``link``'s marker. Another link holding the same id is left from
    before the API reused ids (its data was lost and it numbered records from the start); its
    record is gone, so it needs a new one. Without this, the unique constraint would fail the
    push of the page that rightly holds the record.
    """
    for other in PageContentLink.objects.filter(content_id=content_id).exclude(pk=link.pk):
        message = Message.gettext(
            "Content #%(content_id)s now belongs to page %(page)s, which created it: the "
            "contents API gave that page the id of this page's record, so this page's record "
            "is presumed lost. A new record is being created for this page.",
            content_id=content_id,
            page=link.page_key,
        )
        PageContentLink.objects.filter(pk=other.pk).update(
            **_forgotten_record(),
            # Outstanding again, so a worker (or the sweep) creates the new record; a bump, not
            # synced_version + 1, so a push of it in flight now cannot mark it caught up.
            version=F("version") + 1,
            state=SyncState.PENDING,
            attempts=0,
            first_failure_at=None,
            next_attempt_at=None,
            requested_at=timezone.now(),
            field_errors={},
            **columns("last_error", message),
        )
        SyncLogEntry.objects.create(
            link=other,
            operation="displaced",
            content_id=content_id,
            error={"error": "RecordTaken", "message": message.english(), "page": link.page_key},
            success=False,
        )
        logger.warning(
            "Content #%s was created by page %s; page %s held the same id and will get a new "
            "record",
            content_id,
            link.page_key,
            other.page_key,
        )
        transaction.on_commit(lambda key=other.page_key: enqueue_sync(key))


def _mapping_of_type(page_type: str) -> ContentMapping:
    """The mapping a deleted page's type syncs with, to read its record's marker; the default
    one (its marker field) when the type is gone or no longer syncs."""
    model = page_model(page_type)
    return (get_mapping(model) if model is not None else None) or ContentMapping(Page)


def _check_owner(
    link: PageContentLink,
    mapping: ContentMapping,
    record: dict[str, Any],
    *,
    written: list[str],
    page: Any,
) -> None:
    """Raise ``RecordOfAnotherPage`` when ``record`` carries another page's marker.

    ``written``: the fields this push already sent to it (the PUT's answer is checked too,
    for pushes that made no conflict read), said in the message so editors know what to fix.
    ``page``: the page pushed, None when it was deleted; an unpublished or deleted page's
    push is a pause, and the message says what becomes of the page then.
    """
    found = mapping.marker_of(record)
    owner = marker_page_key(found)
    if found is None or found == link.marker or owner is None or owner == link.page_key:
        return  # ours, made outside Wagtail, or by another system: nothing tells otherwise
    content_id = link.content_id
    _forget_record(link)
    if page is None or not page.live:
        raise RecordOfAnotherPage(_pause_refused(content_id, owner, written=written, page=page))
    if written:
        message = Message.gettext(
            "Content #%(content_id)s belongs to page %(page)s (it carries that page's marker), "
            "and this push changed its %(fields)s. This page was unlinked from it: check that "
            "record on the contents site, then use Retry now to create this page's own record.",
            content_id=content_id,
            page=owner,
            fields=", ".join(written),
        )
    else:
        message = Message.gettext(
            "Content #%(content_id)s belongs to page %(page)s (it carries that page's marker); "
            "it was not changed. This page was unlinked from it: use Retry now to create this "
            "page's own record.",
            content_id=content_id,
            page=owner,
        )
    raise RecordOfAnotherPage(message)


def _pause_refused(content_id: int | None, owner: int, *, written: list[str], page: Any) -> Message:
    """Why an unpublished or deleted page's record was not paused: it is another page's."""
    if written:  # no read came before the write (a burst's baseline, or a race with the read)
        return Message.gettext(
            "Content #%(content_id)s belongs to page %(page)s (it carries that page's marker), "
            "and this push changed its %(fields)s. This page was unlinked from it: check that "
            "record on the contents site.",
            content_id=content_id,
            page=owner,
            fields=", ".join(written),
        )
    if page is None:
        return Message.gettext(
            "Content #%(content_id)s belongs to page %(page)s (it carries that page's marker), "
            "so it was not paused. This deleted page was unlinked from it.",
            content_id=content_id,
            page=owner,
        )
    return Message.gettext(
        "Content #%(content_id)s belongs to page %(page)s (it carries that page's marker), so "
        "it was not paused. This page was unlinked from it: publishing it again creates its "
        "own record.",
        content_id=content_id,
        page=owner,
    )


def _find_by_marker(
    client: Any, mapping: ContentMapping, marker: str, titles: list[str], language: str | None
) -> Any | None:
    # Listed in the language the POST carried: the API lists a record under its language only.
    for title in dict.fromkeys(t for t in titles if t):
        page = client.list_contents(search=title, limit=100, language=language)
        for item in page.items:
            if mapping.marker_of(item.raw) == marker:
                return item
    return None


def _record_gone(
    link: PageContentLink, page: Any, mapping: ContentMapping, client: Any
) -> PushResult:
    """The link's record was deleted outside Wagtail: a live page gets a new one; an
    unpublished page's push was a pause, and a record created only to be paused would be
    clutter on the contents site, so the link forgets the id (publishing creates a record)."""
    _forget_record(link)
    if not page.live:
        return PushResult("skipped")
    return _push_create(link, page, mapping, client)


def _push_update(
    link: PageContentLink,
    page: Any,
    mapping: ContentMapping,
    client: Any,
    fresh_remote_stamp: str | None,
) -> PushResult:
    payload = {
        k: v for k, v in mapping.build_payload(page).items() if k not in mapping.create_only_fields
    }
    changed = {k: v for k, v in payload.items() if value_hash(v) != link.pushed_hashes.get(k)}
    overwritten: dict[str, Any] = {}
    policy = kollus_settings.SYNC_CONFLICT_POLICY
    # The conflict check costs a GET; it is skipped only right after our own write in the same
    # claim (the record's updated_at is the one that write returned).
    if changed and (fresh_remote_stamp is None or fresh_remote_stamp != link.remote_updated_at):
        try:
            # Read in the record's own language (None: it was created without one, so the
            # API's default, which is also what a read without one returns).
            remote = client.get_content(link.content_id, language=_record_language(link))
        except NotFoundError:
            # Deleted outside Wagtail: start over with a new record for the live page.
            return _record_gone(link, page, mapping, client)
        _check_owner(link, mapping, remote.raw or {}, written=[], page=page)
        changed, overwritten = _resolve_conflict(link, payload, changed, remote, policy)
    if not changed:
        _catch_up_mirror(link, client)
        return PushResult("unchanged", link.content_id, overwritten=overwritten)
    try:
        response = client.update_content(link.content_id, changed)
    except NotFoundError:
        # Deleted outside Wagtail after the write our baseline came from (no GET was made).
        return _record_gone(link, page, mapping, client)
    # No conflict read before a PUT on the baseline of our own last write: its answer, which
    # is the whole record, tells whether the id was reused meanwhile.
    _check_owner(
        link, mapping, getattr(response, "raw", None) or {}, written=sorted(changed), page=page
    )
    _remember(link, changed, response)
    _mirror(response)
    return PushResult(
        "update", link.content_id, list(changed), overwritten, remote_updated_at=_stamp(response)
    )


def _record_language(link: PageContentLink) -> str | None:
    """The language the record was created in, as the API acknowledged it."""
    language = link.pushed_values.get("language")
    return language if isinstance(language, str) and language else None


def _resolve_conflict(
    link: PageContentLink,
    payload: dict[str, Any],
    changed: dict[str, Any],
    remote: Any,
    policy: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply the conflict policy; returns (fields to send, remote values they overwrite)."""
    if _stamp(remote) == link.remote_updated_at:
        return changed, {}
    edited = {
        name: project(remote.raw.get(name), pushed)
        for name, pushed in link.pushed_values.items()
        if name in payload and project(remote.raw.get(name), pushed) != pushed
    }
    if not edited:
        return changed, {}
    if policy == "fail":
        raise ConflictError(
            Message.gettext(
                "The content record was edited outside Wagtail (%(fields)s). Conflict policy is "
                "'fail': resolve it remotely or change WAGTAIL_KOLLUS['SYNC_CONFLICT_POLICY'].",
                fields=", ".join(sorted(edited)),
            )
        )
    if policy == "remote_wins":
        # Keep the remote edit: remember it as the pushed value so it is not sent again until
        # the page changes that field.
        kept = {**link.pushed_values, **edited}
        PageContentLink.objects.filter(pk=link.pk).update(
            pushed_values=kept, pushed_hashes={k: value_hash(v) for k, v in kept.items()}
        )
        link.pushed_values = kept
        link.pushed_hashes = {k: value_hash(v) for k, v in kept.items()}
        return {k: v for k, v in changed.items() if k not in edited}, {}
    # page_wins: the page is the source of truth, so remote edits are overwritten (and logged)
    # even for fields the page did not change.
    send = {**changed, **{k: payload[k] for k in edited}}
    return send, {k: remote.raw.get(k) for k in edited}


def _forgotten_record() -> dict[str, Any]:
    """A link's columns once it no longer has a record (its next push creates one)."""
    return {
        "content_id": None,
        "pushed_values": {},
        "pushed_hashes": {},
        "remote_updated_at": "",
        "marker": "",
        "create_attempted_at": None,
    }


def _forget_record(link: PageContentLink) -> None:
    PageContentLink.objects.filter(pk=link.pk).update(**_forgotten_record())
    link.content_id = None
    link.pushed_values, link.pushed_hashes = {}, {}
    link.remote_updated_at, link.marker, link.create_attempted_at = "", "", None


def _stamp(content: Any) -> str:
    value = getattr(content, "updated_at", None)
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _catch_up_mirror(link: PageContentLink, client: Any) -> None:
    """Mirror a record the mirror does not have: its write failed after the create (a busy
    database, say), and the retry that got here has nothing left to send."""
    if ContentRecord.objects.filter(content_id=link.content_id).exists():
        return
    _mirror(client.get_content(link.content_id, language=_record_language(link)))


def _mirror(content: Any) -> None:
    """Keep the local ``ContentRecord`` mirror, and the videos chosen from the record (paused
    by an unpublish, items removed...), current with what the API answered."""
    if content is None or getattr(content, "content_id", None) is None:
        return
    ContentRecord.objects.update_or_create(
        content_id=content.content_id,
        defaults=record_fields(content),
    )
    apply_content(content)


def record_fields(content: Any) -> dict[str, Any]:
    return {
        "title": (content.title or "")[:500],
        "status": content.status or "",
        "content_type": content.content_type or "",
        "language": content.language or "",
        "remote_updated_at": _stamp(content),
        "raw": content.raw or {},
    }


# --- outcomes ---------------------------------------------------------------------------------
def _record_success(
    link: PageContentLink,
    token: str,
    target_version: int,
    result: PushResult,
    *,
    keep_claim: bool = False,
) -> None:
    now = timezone.now()
    changes: dict[str, Any] = {
        "synced_version": target_version,
        "state": SyncState.SYNCED,
        **columns("last_error", None),
        "field_errors": {},
        "attempts": 0,
        "first_failure_at": None,
        "next_attempt_at": None,
        "last_synced_at": now,
        # Released here, in the same UPDATE: the loop in sync_page re-claims if more
        # publishes arrived, so a publish landing between release and re-claim is never lost.
        **leases.RELEASED,
    }
    if keep_claim:  # following a burst (sync_page): hold the lease, renewed
        changes.update(
            claim_token=token,
            claimed_until=leases.lease_end(float(kollus_settings.SYNC_CLAIM_SECONDS), now),
        )
        del changes["claimed_by"]
    if result.operation == "unlink" and kollus_settings.SYNC_UNLINK_ON_DELETE:
        changes["state"] = SyncState.UNLINKED
    with transaction.atomic():
        # Only the claim holder may advance synced_version (a lost lease writes nothing).
        if not _mine(link.page_key, token).update(**changes):
            return
        if result.operation != "unchanged" or result.overwritten:
            SyncLogEntry.objects.create(
                link=link,
                operation=result.operation,
                content_id=result.content_id,
                fields=result.fields,
                overwritten=result.overwritten,
            )
        transaction.on_commit(lambda: _send_synced(link.page_key, result))


def _record_failure(
    link: PageContentLink,
    token: str,
    error: KollusAPIError,
    *,
    final: bool = False,
    counted: bool = False,
) -> tuple[str, float | None]:
    """Record ``error``; returns (outcome, seconds to wait in this worker or None).

    ``counted``: the attempt is already in ``link.attempts`` (a takeover counts it).
    """
    now = timezone.now()
    first = link.first_failure_at or now
    horizon = timedelta(seconds=float(kollus_settings.SYNC_RETRY_HORIZON))
    attempts = link.attempts + (0 if counted else 1)
    description = error.describe()
    field_errors = error.field_errors if isinstance(error, ValidationError) else {}
    retry = error.retryable and not final and now - first < horizon
    delay = _retry_delay(attempts, getattr(error, "retry_after", None)) if retry else None
    changes: dict[str, Any] = {
        "attempts": attempts,
        "first_failure_at": first,
        **columns("last_error", editor_message(error)),
        "field_errors": field_errors,
        "state": SyncState.PENDING if retry else SyncState.FAILED,
        "next_attempt_at": now + timedelta(seconds=delay) if delay is not None else None,
    }
    with transaction.atomic():
        SyncLogEntry.objects.create(
            link=link,
            operation="error",
            content_id=link.content_id,
            error=description,
            success=False,
        )
        _release(link.page_key, token, **changes)
        if not retry:
            transaction.on_commit(lambda: _send_failed(link.page_key, description, error))
    logger.warning(
        "Sync of page %s: %s (attempt %s%s)",
        link.page_key,
        error.message,
        attempts,
        f", retry in {delay:.1f}s" if delay is not None else ", giving up",
    )
    if delay is None:
        return "failed", None
    if delay <= float(kollus_settings.SYNC_INLINE_RETRY_MAX):
        return "retrying", delay
    # Longer waits: next_attempt_at is on the row, and the sweep queues the page once it is
    # due (no one-off django-q2 schedule, which would stay behind in its table).
    return "retrying", None


class LocalError(EditorMessageError):
    """A push failed on our side: the database, a connection, or a bug in a mapping."""

    def __init__(self, message: Message, *, retryable: bool) -> None:
        super().__init__(message, secrets=tuple(kollus_settings.secret_values()))
        self.retryable = retryable


def _as_api_error(page_key: int, error: Exception) -> KollusAPIError:
    """``error`` as the API error family the sync log records; transient ones are retried."""
    if isinstance(error, KollusAPIError):
        return error
    leases.recover_connections(error)
    # A local error may quote a URL or a setting: redacted like the API's own errors.
    detail = redact(str(error), tuple(kollus_settings.secret_values()))
    if leases.is_transient(error):
        message = Message.gettext("Temporary error: %(error)s", error=detail)
        return LocalError(message, retryable=True)
    # A bug in a mapping must not leave "pending" forever: failed, with the traceback logged.
    logger.exception("Sync of page %s failed unexpectedly", page_key)
    return LocalError(Message.gettext("Unexpected error: %(error)s", error=detail), retryable=False)


def _retry_delay(attempts: int, retry_after: float | None) -> float:
    base = float(kollus_settings.SYNC_RETRY_BACKOFF) * (2 ** (attempts - 1))
    delay = min(base, float(kollus_settings.SYNC_RETRY_BACKOFF_MAX))
    # Retry-After is the server's word: never retry sooner than it asked.
    return max(delay, float(retry_after or 0))


def _send_synced(page_key: int, result: PushResult) -> None:
    link = PageContentLink.objects.filter(page_key=page_key).first()
    _send_safely(
        content_synced,
        link=link,
        page_id=page_key,
        content_id=result.content_id,
        action=result.operation,
        fields=result.fields,
    )


def _send_failed(page_key: int, description: dict[str, Any], error: KollusAPIError) -> None:
    link = PageContentLink.objects.filter(page_key=page_key).first()
    _send_safely(
        sync_failed,
        link=link,
        page_id=page_key,
        content_id=link.content_id if link else None,
        error=description,
        retryable=error.retryable,
    )


def _send_safely(signal: Any, **kwargs: Any) -> None:
    send_robustly(signal, sender=PageContentLink, **kwargs)


# --- requests from receivers, the admin and the command ---------------------------------------
def _requested(action: str, requested_at: datetime) -> dict[str, Any]:
    """The outbox row's fields once a push of ``action`` is requested (``version`` bumped)."""
    return {
        "version": F("version") + 1,
        "action": action,
        "state": SyncState.PENDING,
        "attempts": 0,
        "first_failure_at": None,
        "next_attempt_at": None,
        **columns("last_error", None),
        "field_errors": {},
        "requested_at": requested_at,
    }


def request_sync(
    page: Any, action: str = SyncAction.PUBLISH, *, enqueue: bool = True, settled: bool = False
) -> bool:
    """Record that ``page`` needs pushing and enqueue the task when the transaction commits.

    Cheap and local: one UPDATE (an INSERT the first time). Returns False when the page does
    not sync. ``enqueue=False``: the caller queues the push itself. ``settled``: not an
    editor's burst, so the worker need not wait ``SYNC_COALESCE_SECONDS`` of quiet (see
    :func:`bulk_requested_at`).
    """
    if not kollus_settings.SYNC_ENABLED or get_mapping(page) is None:
        return False
    requested = _requested(action, bulk_requested_at() if settled else timezone.now())
    rows = PageContentLink.objects.filter(page_key=page.pk)
    if action == SyncAction.DELETE:
        rows = rows.exclude(state=SyncState.UNLINKED)  # already paused and forgotten
    # A page that synced before (the common case) costs the publish this one UPDATE: no
    # SELECT, no savepoint; the row lock the UPDATE takes keeps concurrent bumps apart.
    if not rows.update(**requested):
        if action != SyncAction.PUBLISH or not page.live:
            return False  # nothing was ever pushed: nothing to pause or unlink
        try:
            with transaction.atomic():  # a savepoint: a lost race must not poison the publish
                PageContentLink.objects.create(
                    page_key=page.pk,
                    page=page,
                    page_type=page._meta.label_lower,
                    page_title=page.title[:255],
                    **{**requested, "version": 1},
                )
        except IntegrityError:  # a concurrent first publish created the row: count this one
            rows.update(**requested)
    if not enqueue:
        return True
    if enqueue_in_transaction():
        # ORM broker on this database: the job row commits (or rolls back) with the outbox
        # row, and no worker can see it earlier. Saves the publish a second commit.
        enqueue_sync(page.pk)
    else:
        # Redis & co. are outside the transaction: a worker must not run before the commit.
        transaction.on_commit(lambda: enqueue_sync(page.pk))
    return True


def bulk_requested_at() -> datetime:
    """When a bulk request (``kollus_sync``) says it was made: ``SYNC_COALESCE_SECONDS`` ago.

    A worker waits until a page has been quiet that long so an editor's burst of publishes
    becomes one push; a page queued by the command is no burst, and waiting a second per page
    made a worker push one page a second. An editor publishing meanwhile moves the time to
    now, and that page coalesces as usual.
    """
    return timezone.now() - timedelta(seconds=float(kollus_settings.SYNC_COALESCE_SECONDS))


def request_syncs(pages: Iterable[Any]) -> list[int]:
    """:func:`request_sync` (publish, ``settled``) for many live pages at once, as
    ``kollus_sync`` asks: one UPDATE for the pages that have an outbox row, one INSERT for
    those that have none, and their jobs queued together (``jobs.enqueue_syncs``). Returns the
    keys of the pages queued; pages that do not sync or are not live are left out.

    Call it inside a transaction: the outbox rows and the queue rows commit together (ORM
    broker), or the jobs go to the broker after the commit.
    """
    if not kollus_settings.SYNC_ENABLED:
        return []
    wanted = {page.pk: page for page in pages if page.live and get_mapping(page) is not None}
    if not wanted:
        return []
    requested = _requested(SyncAction.PUBLISH, bulk_requested_at())
    rows = PageContentLink.objects.filter(page_key__in=list(wanted))
    linked = set(rows.values_list("page_key", flat=True))
    rows.update(**requested)
    first = {**requested, "version": 1}
    # ignore_conflicts: a first publish that created the row meanwhile queued its own push.
    PageContentLink.objects.bulk_create(
        [
            PageContentLink(
                page_key=key,
                page=page,
                page_type=page._meta.label_lower,
                page_title=page.title[:255],
                **first,
            )
            for key, page in wanted.items()
            if key not in linked
        ],
        ignore_conflicts=True,
    )
    keys = list(wanted)
    enqueue_syncs(keys)
    return keys


def retry_now(link: PageContentLink) -> None:
    """The editor's "retry now": forget the backoff and failure, enqueue at once."""
    with transaction.atomic():
        PageContentLink.objects.filter(pk=link.pk).update(
            state=SyncState.PENDING,
            version=F("version") + (1 if link.version <= link.synced_version else 0),
            attempts=0,
            first_failure_at=None,
            next_attempt_at=None,
            requested_at=timezone.now(),
        )
    transaction.on_commit(lambda: enqueue_sync(link.page_key))
