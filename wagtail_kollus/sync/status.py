"""A page's sync status as editors see it: one place for the panel, the JSON endpoint and the report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import leases
from ..models.sync import PageContentLink, SyncState
from .problems import explain_failure

LABELS = {
    "none": _("Not synced yet"),
    SyncState.PENDING: _("Pending"),
    SyncState.SYNCED: _("Synced"),
    SyncState.FAILED: _("Failed"),
    SyncState.UNLINKED: _("Unlinked"),
}


#: A pending push nobody took for this long gets a warning: a worker takes a job within
#: seconds, waits at most ``SYNC_COALESCE_MAX`` for a burst to end, and the sweep queues a due
#: retry within its minute. Which warning depends on :func:`workers_active`: with no sync work
#: at all, no worker may be running; with workers busy, the push waits behind a backlog or its
#: job was lost with a stopped worker (Redis does not hand a killed cluster's job out again).
WORKER_SILENCE = timedelta(minutes=5)


@dataclass
class SyncStatus:
    page_id: int
    state: str
    label: str
    message: str = ""
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    #: What editors read: a headline, and the field errors as sentences with the page's field
    #: labels, nothing said twice (``problems.explain_failure``).
    summary: str = ""
    problems: list[str] = field(default_factory=list)
    content_id: int | None = None
    last_synced_at: str = ""
    next_attempt_at: str = ""
    status_url: str = ""
    retry_url: str = ""
    can_retry: bool = False
    #: The push waited ``WORKER_SILENCE`` and no worker did any sync work (``qcluster`` not
    #: running?).
    worker_silent: bool = False
    #: The push waited ``WORKER_SILENCE`` while workers synced other pages: queued behind them,
    #: or its job was lost; the sweep queues it again by ``requeued_by`` at the latest.
    waiting_behind: bool = False
    requeued_by: str = ""
    #: Datetimes for the panel's template (the JSON has the ISO strings above).
    next_attempt: datetime | None = field(default=None, repr=False)
    waiting_since: datetime | None = field(default=None, repr=False)
    next_attempt_due: bool = False
    requeue_time: datetime | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for template_only in ("next_attempt", "waiting_since", "next_attempt_due", "requeue_time"):
            del data[template_only]
        return data


def waiting_since(link: PageContentLink, now: datetime) -> datetime | None:
    """Since when ``link``'s push has been due with no worker on it (None: not waiting)."""
    if not link.is_outstanding or link.state == SyncState.FAILED:
        return None
    if link.claimed_until and link.claimed_until > now:
        return None  # a worker holds it
    if link.next_attempt_at:
        return link.next_attempt_at if link.next_attempt_at <= now else None
    return link.requested_at


def workers_active(since: datetime, now: datetime) -> bool:
    """Whether a worker did sync work after ``since``: holds a page now, or synced one since.

    One query on two indexed columns, asked only of a push that waited ``WORKER_SILENCE``.
    Work older than ``LOST_JOB_SECONDS`` does not count: a cluster that stopped that long ago
    no longer runs the sweep either.
    """
    recent = max(since, now - timedelta(seconds=leases.LOST_JOB_SECONDS))
    return PageContentLink.objects.filter(
        Q(claimed_until__gt=now) | Q(last_synced_at__gte=recent)
    ).exists()


def status_for_link(link: PageContentLink | None, page_id: int) -> SyncStatus:
    state = link.state if link else "none"
    summary, problems = (
        explain_failure(link.last_error_display, link.field_errors, link.page_type) if link else ("", [])
    )
    if link and link.state == SyncState.SYNCED and link.is_outstanding:
        state = SyncState.PENDING
    now = timezone.now()
    since = waiting_since(link, now) if link else None
    waited_long = since is not None and now - since >= WORKER_SILENCE
    behind = waited_long and workers_active(since, now)
    requeue = leases.requeued_by(link, link.requested_at, now) if behind else None
    return SyncStatus(
        page_id=page_id,
        state=str(state),
        label=str(LABELS.get(state, state)),
        message=link.last_error_display if link else "",
        field_errors=link.field_errors if link else {},
        summary=summary,
        problems=problems,
        content_id=link.content_id if link else None,
        last_synced_at=link.last_synced_at.isoformat() if link and link.last_synced_at else "",
        next_attempt_at=link.next_attempt_at.isoformat() if link and link.next_attempt_at else "",
        status_url=reverse("wagtail_kollus_sync:status", args=[page_id]),
        retry_url=reverse("wagtail_kollus_sync:retry", args=[page_id]),
        can_retry=bool(link) and state in (SyncState.FAILED, SyncState.PENDING),
        worker_silent=waited_long and not behind,
        waiting_behind=behind,
        requeued_by=requeue.isoformat() if requeue else "",
        next_attempt=link.next_attempt_at if link else None,
        waiting_since=since,
        next_attempt_due=bool(link and link.next_attempt_at and link.next_attempt_at <= now),
        requeue_time=requeue,
    )


def status_for_page(page: Any) -> SyncStatus:
    link = PageContentLink.objects.filter(page_key=page.pk).first()
    return status_for_link(link, page.pk)
