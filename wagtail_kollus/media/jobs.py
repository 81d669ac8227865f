"""Putting the media tasks (``media.tasks``) on django-q2's queue.

Views, the callback endpoint, the sweep and the services queue work through these; the tasks
are named by their dotted path, so nothing here imports the tasks or the services they call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import schedule

from .. import queue
from ..conf import kollus_settings

TASKS_MODULE = "wagtail_kollus.media.tasks"
TASK_GROUP = "wagtail_kollus.media"


def enqueue_now(name: str, *args: Any) -> None:
    """Queue ``tasks.<name>(*args)`` now (outside a transaction, e.g. from a command)."""
    queue.enqueue_now(f"{TASKS_MODULE}.{name}", *args, group=TASK_GROUP)


def enqueue_many(name: str, arguments: list[tuple[Any, ...]], using: str = DEFAULT_DB_ALIAS) -> int:
    """Queue ``tasks.<name>(*args)`` for each of ``arguments`` in one go, with the caller's
    transaction (see :func:`wagtail_kollus.queue.enqueue_many`)."""
    return queue.enqueue_many(f"{TASKS_MODULE}.{name}", arguments, group=TASK_GROUP, using=using)


def prepare_enqueue(name: str, *args: Any, using: str = DEFAULT_DB_ALIAS) -> Callable[[], None]:
    """Sign ``tasks.<name>(*args)`` now; the returned callable writes it (see
    :func:`wagtail_kollus.queue.prepare_enqueue`): the callback endpoint holds the database's
    write lock only for the ``INSERT``."""
    return queue.prepare_enqueue(f"{TASKS_MODULE}.{name}", *args, group=TASK_GROUP, using=using)


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
    schedule(
        f"{TASKS_MODULE}.{name}",
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
