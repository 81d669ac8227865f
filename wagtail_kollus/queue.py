"""Putting our django-q2 jobs on the queue, cheaply and inside the caller's transaction.

``async_task`` builds a broker object, checks its connection, names the task with a humanhash
and logs a line per call: on the callback endpoint and the publish request that was most of
what queuing cost. When the queue is django-q2's own ORM broker in the database we write to,
we write the queue row ourselves, inside the caller's transaction, so it commits (or rolls
back) with our rows in one commit and no worker can see it earlier. The package is signed with
django-q2's own ``SignedPackage`` and ``pre_enqueue`` is still sent, so the worker, the admin
and listeners see an ordinary task. Any other broker (Redis…) gets ``async_task`` after the
commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule
from django_q.signals import pre_enqueue
from django_q.signing import SignedPackage
from django_q.tasks import async_task

from .conf import kollus_settings
from .models.callbacks import PreparedInsert, prepare_insert

logger = logging.getLogger("wagtail_kollus.queue")

# Jobs queued per transaction by the bulk paths (kollus_sync, kollus_refresh_media --queue, the
# sweep): short enough that a worker waiting for SQLite's write lock is not kept waiting long,
# large enough that queuing 100 000 jobs is a few hundred statements.
QUEUE_BATCH = 500

# Q_CLUSTER_NAME -> whether its broker is the plain ORM broker (django-q2 reads its settings
# once, at import, so neither can change under a running process).
_ORM_BROKER: dict[str | None, bool] = {}


def same_database_orm_broker(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Is the queue django-q2's own ORM broker, in a table of database ``using``?

    Only then may a job's row be written inside the caller's transaction. ``get_broker`` picks
    a custom ``broker_class``, IronMQ or SQS before the ORM, so ask it (once per cluster).
    """
    if Conf.SYNC or not Conf.ORM or using != Conf.ORM:
        return False
    cluster = kollus_settings.Q_CLUSTER_NAME
    if cluster not in _ORM_BROKER:
        # Exactly the ORM broker: a subclass may enqueue differently.
        _ORM_BROKER[cluster] = type(get_broker(cluster)) is ORM
    return _ORM_BROKER[cluster]


# The brokers whose ``queue_size`` counts exactly the jobs no cluster has taken yet: Redis, the
# length of its list; the ORM broker, the rows not locked by a cluster (a dead cluster's rows
# count again once their lock of ``retry`` seconds ends, and are handed out again).
_COUNTING_BROKERS = ("django_q.brokers.redis_broker.Redis", "django_q.brokers.orm.ORM")


def broker_queue_empty() -> bool:
    """Whether the broker's queue our jobs go to (``Q_CLUSTER_NAME``) holds no job that waits
    for a cluster to take it. Every job queued earlier is then running or in a running
    cluster's own queue, or was lost with a killed cluster (``leases.EMPTY_QUEUE_LOST_JOB_SECONDS``).

    ``False`` whenever it cannot tell: an unreachable broker, a broker whose count means
    something else (SQS's is approximate; a custom ``broker_class``), django-q2's ``sync``.
    """
    if Conf.SYNC:
        return False
    try:
        broker = get_broker(kollus_settings.Q_CLUSTER_NAME)
        kind = f"{type(broker).__module__}.{type(broker).__qualname__}"
        return kind in _COUNTING_BROKERS and broker.queue_size() == 0
    except Exception as error:
        # The sweep must run on (retries, leases) and fall back to the long wait. The error's
        # text may name the broker's address: only its type is logged.
        logger.warning("Could not read the task queue's length (%s).", type(error).__name__)
        return False


def task_options(group: str, save: bool | None = None) -> dict[str, Any]:
    """``async_task``/``schedule`` options for our jobs: their group and, if set, the cluster.

    ``save=False``: django-q2 keeps no ``Success`` row for the job (failures are still kept).
    For jobs whose outcome is recorded elsewhere: the cluster's single monitor process saves
    every result, pruning the table to ``save_limit`` rows in the same transaction, and at
    thousands of jobs that serial work, not the workers, bounded the throughput.
    """
    options: dict[str, Any] = {"group": group}
    if save is not None:
        options["save"] = save
    if kollus_settings.Q_CLUSTER_NAME:
        options["cluster"] = kollus_settings.Q_CLUSTER_NAME
    return options


def task_package(func: str, *args: Any, group: str, save: bool | None = None) -> dict[str, Any]:
    """The task dict ``async_task`` would build for ``func(*args)`` with our options."""
    task_id = uuid.uuid4().hex
    task: dict[str, Any] = {
        "id": task_id,
        # async_task's default name is a humanhash of the id, which costs more than the rest of
        # the package together; the function's name says more in the admin's task list.
        "name": f"{func.rpartition('.')[2]}-{task_id[:8]}",
        "func": func,
        "args": args,
        **task_options(group, save),
    }
    if Conf.CACHED:
        task["cached"] = Conf.CACHED
    if Conf.ACK_FAILURES:
        task["ack_failure"] = Conf.ACK_FAILURES
    task["kwargs"] = {}
    task["started"] = timezone.now()
    return task


def queue_row(
    func: str, *args: Any, group: str, using: str, save: bool | None = None
) -> PreparedInsert:
    """The ORM broker's queue row for ``func(*args)``, signed and ready to insert."""
    task = task_package(func, *args, group=group, save=save)
    pre_enqueue.send(sender="django_q", task=task)
    values = {
        "key": kollus_settings.Q_CLUSTER_NAME or Conf.CLUSTER_NAME,
        "payload": SignedPackage.dumps(task),
        "lock": task["started"],
    }
    return prepare_insert(OrmQ, values, using=using)


def enqueue_now(func: str, *args: Any, group: str, save: bool | None = None) -> None:
    """Queue ``func(*args)`` through ``async_task`` at once (outside our transactions)."""
    async_task(func, *args, **task_options(group, save))


def prepare_enqueue(
    func: str, *args: Any, group: str, using: str = DEFAULT_DB_ALIAS, save: bool | None = None
) -> Callable[[], None]:
    """:func:`enqueue` in two steps: the work that needs no database now, the write later.

    Call the result inside the transaction: the callback endpoint signs the package before it
    takes the database's write lock, and holds the lock only for the ``INSERT``. (Called
    outside a transaction, the row is committed at once, as ``async_task`` would.)
    """
    if not same_database_orm_broker(using):
        return lambda: transaction.on_commit(
            lambda: enqueue_now(func, *args, group=group, save=save), using=using
        )
    if pre_enqueue.has_listeners():
        # A listener may change the task before it is signed, and must hear only of tasks
        # that are queued (a duplicate callback rolls its transaction back): sign late.
        return lambda: queue_row(func, *args, group=group, using=using, save=save).execute()
    return queue_row(func, *args, group=group, using=using, save=save).execute


def enqueue(
    func: str, *args: Any, group: str, using: str = DEFAULT_DB_ALIAS, save: bool | None = None
) -> None:
    """Queue ``func(*args)`` so a worker sees it only once the caller's rows are committed.

    With the ORM broker in the same database, the queue row is written inside the current
    transaction (one commit instead of two); any other broker is written to after the commit.
    """
    prepare_enqueue(func, *args, group=group, using=using, save=save)()


def enqueue_many(
    func: str,
    arguments: Iterable[tuple[Any, ...]],
    *,
    group: str,
    using: str = DEFAULT_DB_ALIAS,
    save: bool | None = None,
) -> int:
    """Queue ``func(*args)`` for each ``args`` of ``arguments``, as :func:`enqueue` does, in one
    go: the bulk commands queue thousands of jobs per batch. Returns how many.

    django-q2 has no bulk enqueue (``async_iter`` is one task that runs them all in one
    worker). With the ORM broker in the same database the queue rows are one ``executemany``
    inside the caller's transaction; any other broker is asked for once, after the commit,
    and given every package (``async_task`` would build a broker, and with it a connection,
    per job).
    """
    calls = [tuple(args) for args in arguments]
    if not calls:
        return 0
    if same_database_orm_broker(using):
        rows = [queue_row(func, *args, group=group, using=using, save=save) for args in calls]
        with connections[using].cursor() as cursor:
            cursor.executemany(rows[0].sql, [row.params for row in rows])
    else:
        transaction.on_commit(lambda: _push_packages(func, calls, group, save), using=using)
    return len(calls)


def _push_packages(func: str, calls: list[tuple[Any, ...]], group: str, save: bool | None) -> None:
    if Conf.SYNC:  # run in this process: async_task knows how
        for args in calls:
            enqueue_now(func, *args, group=group, save=save)
        return
    broker = get_broker(kollus_settings.Q_CLUSTER_NAME)
    for args in calls:
        task = task_package(func, *args, group=group, save=save)
        pre_enqueue.send(sender="django_q", task=task)
        broker.enqueue(SignedPackage.dumps(task))


def ensure_schedule(name: str, func: str, **defaults: Any) -> tuple[Any, bool]:
    """Create the named django-q2 schedule of ``func`` unless it exists; ``(schedule, created)``.

    Our repeating schedules are installed by commands run on every deploy: an existing one
    keeps its timing (an operator may have changed it) and only gets its task path and cluster
    (``Q_CLUSTER_NAME``) corrected. ``defaults``: the other ``Schedule`` fields of a new one.
    """
    cluster = kollus_settings.Q_CLUSTER_NAME
    schedule, created = Schedule.objects.get_or_create(
        name=name, defaults={"func": func, "repeats": -1, "cluster": cluster, **defaults}
    )
    if not created and (schedule.func != func or schedule.cluster != cluster):
        schedule.func, schedule.cluster = func, cluster
        schedule.save(update_fields=["func", "cluster"])
    return schedule, created
