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

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
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


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did: work queued again, and expired rows deleted."""

    pages: int
    deliveries: int
    plays: int = 0
    refusals: int = 0

    def __str__(self) -> str:
        # English: django-q2 keeps it as the task's result, which operators read in the
        # admin's task list beside django-q2's own English.
        summary = f"queued {self.pages} page sync(s) and {self.deliveries} callback delivery(ies)"
        if self.plays:
            summary += f"; deleted {self.plays} expired play(s)"
        if self.refusals:
            summary += f"; deleted {self.refusals} old refused play(s)"
        return summary

    def describe(self) -> str:
        """The summary in the active language (``manage.py kollus_sweep``)."""
        parts = [
            ngettext("%(count)d page sync queued", "%(count)d page syncs queued", self.pages)
            % {"count": self.pages},
            ngettext(
                "%(count)d callback delivery queued",
                "%(count)d callback deliveries queued",
                self.deliveries,
            )
            % {"count": self.deliveries},
        ]
        if self.plays:
            parts.append(
                ngettext(
                    "%(count)d expired play deleted", "%(count)d expired plays deleted", self.plays
                )
                % {"count": self.plays}
            )
        if self.refusals:
            parts.append(
                ngettext(
                    "%(count)d old refused play deleted",
                    "%(count)d old refused plays deleted",
                    self.refusals,
                )
                % {"count": self.refusals}
            )
        return _("Sweep: %(summary)s.") % {"summary": pgettext("list separator", ", ").join(parts)}


def sweep(lost_after: float | None = LOST_JOB_SECONDS) -> str:
    """django-q2 task: queue expired leases, due retries and lost jobs. Returns a summary."""
    return str(run(lost_after))


def run(lost_after: float | None = LOST_JOB_SECONDS) -> SweepResult:
    """One sweep (the task's, or ``manage.py kollus_sweep``'s).

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
    return SweepResult(pages, deliveries, plays, refusals)


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
