"""django-q2 task functions. Thin: arguments are primitives, the work is in ``engine``."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.utils import timezone

logger = logging.getLogger("wagtail_kollus.sync")

SYNC_TASK = "wagtail_kollus.sync.tasks.sync_page_task"


def sync_page_task(page_key: int) -> str:
    """The queued job: push one page (see ``engine.sync_page``)."""
    from .engine import sync_page

    return sync_page(int(page_key))


def sweep_outstanding() -> int:
    """Enqueue every page that still waits (a backstop for lost or long-delayed jobs).

    Schedule it every few minutes (docs/sync.md); returns how many pages were enqueued.
    """
    from django.db.models import Q

    from ..models.sync import PageContentLink

    now = timezone.now()
    keys = list(
        PageContentLink.objects.outstanding()
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .values_list("page_key", flat=True)
    )
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


def schedule_sync(page_key: int, delay: float) -> None:
    """Run the push of ``page_key`` again in ``delay`` seconds (long backoffs only).

    django-q2 has no delayed enqueue; a one-off ``Schedule`` is its way. The scheduler wakes
    about every 30 s, which is fine for waits this long.
    """
    from django_q.models import Schedule
    from django_q.tasks import schedule

    from ..queue import task_options

    options = task_options(SYNC_GROUP)
    options.pop("group", None)
    schedule(
        SYNC_TASK,
        int(page_key),
        name=f"wagtail_kollus_sync_{page_key}_{uuid.uuid4().hex[:8]}",
        schedule_type=Schedule.ONCE,
        repeats=1,
        next_run=timezone.now() + timedelta(seconds=delay),
        **options,
    )
