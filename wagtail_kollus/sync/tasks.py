"""django-q2 task functions. Thin: arguments are primitives, the work is in ``engine``."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

logger = logging.getLogger("wagtail_kollus.sync")

SYNC_TASK = "wagtail_kollus.sync.tasks.sync_page_task"


def sync_page_task(page_key: int) -> str:
    """The queued job: push one page (see ``engine.sync_page``)."""
    from .engine import sync_page

    return sync_page(int(page_key))


def sweep_outstanding(lost_after: float | None = None) -> int:
    """Queue every page that waits for a job: an expired lease, a due retry and, without
    ``lost_after`` (``kollus_sync --pending``), every outstanding page nobody holds.

    With ``lost_after`` (seconds; the scheduled sweep, ``wagtail_kollus.sweep``), a page that
    is simply waiting is queued again only once it has waited that long: its own job is
    presumed lost, while a recent one is left to the job queued with it. Returns how many
    pages were queued.
    """
    from django.db.models import Q

    from .. import leases
    from ..models.sync import PageContentLink

    now = timezone.now()
    waited = None
    if lost_after is not None:
        waited = Q(requested_at__isnull=True) | Q(
            requested_at__lt=now - timedelta(seconds=lost_after)
        )
    rows = leases.waiting_for_a_job(
        PageContentLink.objects.outstanding(), now=now, requested_before=waited
    )
    keys = list(rows.values_list("page_key", flat=True))
    for key in keys:
        enqueue_sync(key)
    return len(keys)


SYNC_GROUP = "wagtail_kollus_sync"


def enqueue_in_transaction() -> bool:
    """True when jobs go to django-q2's ORM broker on the database the outbox lives on."""
    from django.db import router

    from ..models.sync import PageContentLink
    from ..queue import same_database_orm_broker

    return same_database_orm_broker(router.db_for_write(PageContentLink))


def enqueue_sync(page_key: int) -> None:
    """Queue a push of ``page_key``. A broker error must not break a publish."""
    from django.db import router, transaction

    from ..models.sync import PageContentLink
    from ..queue import enqueue

    using = router.db_for_write(PageContentLink)
    try:
        # A savepoint: when called inside the publish transaction, a broker error must not
        # poison that transaction.
        with transaction.atomic(using=using):
            enqueue(SYNC_TASK, int(page_key), group=SYNC_GROUP, using=using)
    except Exception:
        # The outbox row is committed, so nothing is lost: the sweep or the next publish
        # enqueues it again.
        logger.exception("Could not enqueue the sync of page %s", page_key)
