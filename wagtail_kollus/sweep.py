"""The one sweep: every minute, queue the leased work that needs a job (``wagtail_kollus.leases``).

It picks up, for page syncs and callback deliveries alike, a lease whose worker stopped, a
retry that is due, and work whose job was lost (nobody claimed it for ``LOST_JOB_SECONDS``, or
for ``EMPTY_QUEUE_LOST_JOB_SECONDS`` while the broker's queue is empty).
Retries of leased work are never written to django-q2's ``Schedule`` table: the row says when
it is due and this sweep queues it. (One-off follow-ups with no row of their own use
``media.jobs.schedule_later``, whose schedules django-q2 deletes once they ran.)

Install it with ``manage.py kollus_sweep --install-schedule`` (idempotent: run it on every
deploy); ``manage.py kollus_sweep`` runs one sweep now.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django_q.models import Schedule

from .conf import kollus_settings
from .leases import EMPTY_QUEUE_LOST_JOB_SECONDS, LOST_JOB_SECONDS, SWEEP_MINUTES
from .media.services import sweep_deliveries
from .models import ApprovedPlay, RefusedPlay
from .queue import broker_queue_empty
from .queue import ensure_schedule as ensure
from .sync.tasks import sweep_outstanding

SCHEDULE_NAME = "wagtail_kollus: sweep"
TASK_PATH = "wagtail_kollus.sweep.sweep"
# When the sweep runs and when it presumes a job lost are the lease rule's (``leases``): the
# sync panel tells editors when a waiting push is queued again.
MINUTES = SWEEP_MINUTES
# What versions before this sweep left in django-q2's Schedule table.
_OUR_TASKS = "wagtail_kollus."
_EARLIER_SYNC_SWEEP = "wagtail_kollus: sync sweep"


def sweep(lost_after: float | None = LOST_JOB_SECONDS) -> str:
    """django-q2 task: queue expired leases, due retries and lost jobs. Returns a summary.

    ``lost_after=None`` (``manage.py kollus_sweep``, after an outage) queues everything that
    waits, however recent.
    """
    unclaimed_after = never_claimed_wait(lost_after)
    pages = sweep_outstanding(lost_after=lost_after, unclaimed_after=unclaimed_after)
    deliveries = sweep_deliveries(lost_after=lost_after, unclaimed_after=unclaimed_after)
    # Plays approved by the play callback count as streams only until they expire.
    plays = ApprovedPlay.delete_expired()
    # The refused plays report keeps REFUSED_PLAYS_RETENTION_DAYS (one indexed DELETE).
    refusals = RefusedPlay.delete_older_than(kollus_settings.REFUSED_PLAYS_RETENTION_DAYS)
    summary = f"queued {pages} page sync(s) and {deliveries} callback delivery(ies)"
    if plays:
        summary += f"; deleted {plays} expired play(s)"
    if refusals:
        summary += f"; deleted {refusals} old refused play(s)"
    return summary


def never_claimed_wait(lost_after: float | None) -> float | None:
    """How long work nobody ever claimed waits before this run presumes its job lost.

    ``lost_after``, unless the broker's queue is empty: then no backlog is ahead of the job,
    and ``EMPTY_QUEUE_LOST_JOB_SECONDS`` is enough (a Redis cluster killed with jobs it had
    taken off the list loses them; Redis hands nothing out again). Asked before the rows are
    read: a job taken off the queue in between is in a running cluster, and queuing its row
    again costs one job that finds nothing to do. A row the sweep queued already keeps
    waiting ``lost_after`` (``swept_at``): this shortens the first wait, never the flood guard.
    """
    if lost_after is None or lost_after <= EMPTY_QUEUE_LOST_JOB_SECONDS:
        return lost_after
    return EMPTY_QUEUE_LOST_JOB_SECONDS if broker_queue_empty() else lost_after


def ensure_schedule() -> tuple[Any, bool]:
    """Create the sweep's schedule unless it exists; return ``(schedule, created)``.

    An existing schedule keeps its interval and next run (an operator may have changed them);
    only its task path and cluster are corrected.
    """
    return ensure(SCHEDULE_NAME, TASK_PATH, schedule_type=Schedule.MINUTES, minutes=MINUTES)


def remove_stale_schedules() -> int:
    """Delete the schedules this sweep makes unnecessary; returns how many.

    * one-off schedules of our tasks that already ran (``repeats=0``): earlier versions wrote
      one per retry, and django-q2 keeps such a schedule after it ran. Those still waiting to
      run are left alone;
    * the "sync sweep" schedule earlier docs told you to create: this sweep covers it.
    """
    deleted, _ = Schedule.objects.filter(
        Q(schedule_type=Schedule.ONCE, repeats=0, func__startswith=_OUR_TASKS)
        | Q(name=_EARLIER_SYNC_SWEEP, func="wagtail_kollus.sync.tasks.sweep_outstanding")
    ).delete()
    return deleted
