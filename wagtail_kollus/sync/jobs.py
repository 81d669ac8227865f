"""Putting page pushes on django-q2's queue (the jobs ``sync.tasks`` runs).

Apart from ``tasks`` so that the engine, which asks for pushes, and the tasks, which run the
engine, do not import each other: the job is named by its dotted path.
"""

from __future__ import annotations

import logging

from django.db import router, transaction

from ..models.sync import PageContentLink
from ..queue import enqueue, enqueue_many, same_database_orm_broker

logger = logging.getLogger("wagtail_kollus.sync")

SYNC_TASK = "wagtail_kollus.sync.tasks.sync_page_task"
SYNC_GROUP = "wagtail_kollus_sync"
# A push's outcome is the outbox row and its sync log: django-q2 need not keep a Success row
# per push (its monitor's saving them was the bottleneck of a bulk sync; failures are kept).
SAVE_RESULTS = False


def enqueue_in_transaction() -> bool:
    """True when jobs go to django-q2's ORM broker on the database the outbox lives on."""
    return same_database_orm_broker(router.db_for_write(PageContentLink))


def enqueue_sync(page_key: int) -> None:
    """Queue a push of ``page_key``. A broker error must not break a publish."""
    using = router.db_for_write(PageContentLink)
    try:
        # A savepoint: when called inside the publish transaction, a broker error must not
        # poison that transaction.
        with transaction.atomic(using=using):
            enqueue(SYNC_TASK, int(page_key), group=SYNC_GROUP, using=using, save=SAVE_RESULTS)
    except Exception:
        # The outbox row is committed, so nothing is lost: the sweep or the next publish
        # enqueues it again.
        logger.exception("Could not enqueue the sync of page %s", page_key)


def enqueue_syncs(page_keys: list[int]) -> int:
    """Queue a push of each of ``page_keys`` (``kollus_sync``'s batches), with the caller's
    transaction as :func:`enqueue_sync`. Unlike it, a broker error propagates: the command
    stops and says so, and the batch's outbox rows roll back with the queue rows."""
    using = router.db_for_write(PageContentLink)
    return enqueue_many(
        SYNC_TASK,
        ((int(key),) for key in page_keys),
        group=SYNC_GROUP,
        using=using,
        save=SAVE_RESULTS,
    )
