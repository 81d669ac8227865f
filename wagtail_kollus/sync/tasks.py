"""django-q2 task functions. Thin: arguments are primitives, the work is in ``engine``."""

from __future__ import annotations

from datetime import timedelta

from django.db import router, transaction
from django.db.models import Q
from django.utils import timezone

from .. import leases
from ..models.sync import PageContentLink
from ..queue import QUEUE_BATCH
from .engine import sync_page
from .jobs import enqueue_syncs


def sync_page_task(page_key: int) -> str:
    """The queued job: push one page (see ``engine.sync_page``)."""
    return sync_page(int(page_key))


def sweep_outstanding(
    lost_after: float | None = None, unclaimed_after: float | None = None
) -> int:
    """Queue every page that waits for a job: an expired lease, a due retry and, without
    ``lost_after`` (``kollus_sync --pending``), every outstanding page nobody holds.

    With ``lost_after`` (seconds; the scheduled sweep, ``wagtail_kollus.sweep``), a page that
    is simply waiting is queued again only once it has waited that long (``unclaimed_after``
    instead, if given: the sweep's shorter wait when the broker's queue is empty): its own
    job is presumed lost, while a recent one is left to the job queued with it. A page the
    sweep queued already waits ``lost_after`` again. Returns how many pages were queued.
    """
    now = timezone.now()
    waited = None
    if lost_after is not None:
        wait = lost_after if unclaimed_after is None else unclaimed_after
        waited = Q(requested_at__isnull=True) | Q(requested_at__lt=now - timedelta(seconds=wait))
    rows = leases.waiting_for_a_job(
        PageContentLink.objects.outstanding(),
        now=now,
        requested_before=waited,
        lost_after=lost_after,
    )
    keys = list(rows.values_list("page_key", flat=True))
    for start in range(0, len(keys), QUEUE_BATCH):
        batch = keys[start : start + QUEUE_BATCH]
        # One transaction per batch: its queue rows in one statement (ORM broker), or one
        # broker connection for the batch (Redis), whatever the size of the backlog.
        with transaction.atomic(using=router.db_for_write(PageContentLink)):
            leases.mark_swept(PageContentLink.objects.filter(page_key__in=batch), now)
            enqueue_syncs(batch)
    return len(keys)
