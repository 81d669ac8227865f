"""A django-q2 cluster keeps working after one of its workers is killed.

django-q2's workers take tasks from one ``multiprocessing.Queue``; a worker waiting for a task
holds that queue's read lock while it waits. If that worker is killed (the OOM killer, a
``kill -9``, a container limit), the lock is never released: the guard starts a replacement,
but it and every other worker wait for the lock for ever, and the cluster — alive, scheduling,
reporting "idle" — runs nothing again until it is restarted (django-q2 issue #23, open since
2022; reproduced by ``tests/test_cluster_repair.py`` and by the soak benchmark).

Nothing is lost meanwhile (the broker keeps the tasks, the plugin's outbox and callback log keep
their rows), but nothing moves either. So when the guard finds that a worker **died** (not a
timeout, which django-q2 kills itself while the worker is busy, nor a recycle), this module has
it start the pusher and every worker again on a **new** queue. Tasks the old pusher or workers
held come back from the broker after ``Q_CLUSTER["retry"]`` seconds (the ORM broker; the sweep
re-queues the plugin's own work on brokers without redelivery); the plugin's leases make a
repeat harmless. A worker death is rare, so stopping the busy ones too is the small price of a
cluster that cannot hang.

Installed by the app's ``ready()`` (so in ``qcluster`` too) unless
``WAGTAIL_KOLLUS["CLUSTER_QUEUE_REPAIR"]`` is ``False``. It patches one method of django-q2's
``Sentinel`` and calls the original first, so django-q2's own handling is unchanged.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

logger = logging.getLogger(__name__)

# django-q2's worker timer values: 0 = killed by the guard for a timeout, -2 = recycled.
_GUARD_ENDED = (0, -2)


def install() -> None:
    """Patch ``django_q.cluster.Sentinel.reincarnate`` (once)."""
    from django_q import cluster

    original = cluster.Sentinel.reincarnate
    if getattr(original, "renews_task_queue", False):
        return

    @functools.wraps(original)
    def reincarnate(self: Any, process: Any) -> None:
        died = (
            process is not self.monitor
            and process is not self.pusher
            and int(process.timer.value) not in _GUARD_ENDED
        )
        original(self, process)
        if died and not self.stop_event.is_set():
            renew_task_queue(self)

    reincarnate.renews_task_queue = True  # type: ignore[attr-defined]
    cluster.Sentinel.reincarnate = reincarnate


def renew_task_queue(sentinel: Any) -> None:
    """Give ``sentinel`` a new task queue, and a pusher and workers that use it."""
    from django_q.conf import Conf
    from django_q.queues import Queue

    logger.warning(
        "A django-q2 worker died; it may have held the task queue's lock (django-q2 issue "
        "#23). Restarting the pusher and %d workers on a new queue.",
        sentinel.pool_size,
    )
    stale = sentinel.task_queue
    sentinel.task_queue = Queue(maxsize=Conf.QUEUE_LIMIT) if Conf.QUEUE_LIMIT else Queue()
    for process in [sentinel.pusher, *sentinel.pool]:
        process.kill()
    for process in [sentinel.pusher, *sentinel.pool]:
        process.join(timeout=10)
    # Emptied in place: the guard is iterating over this very list.
    sentinel.pool[:] = []
    for _ in range(sentinel.pool_size):
        sentinel.spawn_worker()
    sentinel.pusher = sentinel.spawn_pusher()
    # Nobody reads the old queue again; its feeder thread must not hold up the guard's exit.
    stale.cancel_join_thread()
    stale.close()
