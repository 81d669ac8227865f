"""The one lease rule for every claimed piece of work (page syncs, callback deliveries).

A row that needs work carries the :class:`~wagtail_kollus.models.leased.LeasedWork` columns.

* **Claim.** A worker takes a row with one ``UPDATE`` that writes a random token and a lease
  end (``claimed_until``). Only the holder of the token may finish or release the row. No
  database lock is held while the worker calls a remote API.
* **Expiry.** A worker that dies (SIGKILL, out of memory, a deploy, django-q2's ``timeout``)
  never releases its row. Once the lease has ended the next worker takes the row over: the job
  django-q2 hands out again after ``Q_CLUSTER["retry"]`` seconds, or the one the sweep queues.
  Taking over counts one failed attempt, so a row that kills every worker that touches it
  ends up failed instead of looping.
* **Retries.** A transient failure (:func:`is_transient`) is recorded on the row as
  ``attempts`` and ``next_attempt_at``; the sweep (``wagtail_kollus.sweep``) queues the row
  again once it is due. Nothing is written to django-q2's ``Schedule`` table for a retry, so
  retries leave no rows behind. Each kind of work decides how long to back off and when to
  give up, and shows a failed row with a "Retry" action.

Keep django-q2's ``timeout`` below every lease and its ``retry`` at or above it: a worker
that is still running must never lose its lease, and a redelivered job must find it expired.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from .api.errors import KollusAPIError

if TYPE_CHECKING:
    from .models.leased import LeasedWork

#: The claim columns of a row nobody holds.
RELEASED: dict[str, Any] = {
    "claim_token": "",
    "claimed_until": None,
    "claimed_by": "",
    "swept_at": None,  # a worker had the row: no job the sweep queued is still waiting
}


@dataclass(frozen=True)
class Claim:
    token: str
    #: The row was taken over from a holder whose lease expired: that worker stopped before
    #: finishing, and ``claim`` counted it as a failed attempt.
    took_over: bool


def worker_name() -> str:
    """``host:pid`` of this process, kept in ``claimed_by`` for operators."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def lease_end(seconds: float, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(seconds=float(seconds))


def due(now: datetime) -> Q:
    """Rows with no retry pending, or whose retry is due."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def claim(
    rows: QuerySet,
    *,
    seconds: float,
    respect_backoff: bool = True,
    on_takeover: dict[str, Any] | None = None,
    **changes: Any,
) -> Claim | None:
    """Claim the row(s) of ``rows`` that nobody holds, or whose holder's lease expired.

    ``changes`` are written with the claim (e.g. a status); ``on_takeover`` only when the
    lease was taken over, next to ``attempts + 1``. With ``respect_backoff`` a row whose
    retry is not due yet is left alone. Returns ``None`` when there was nothing to claim.

    A free row costs one ``UPDATE``; only when it matched nothing does a second one look for
    an expired lease (rare, and it is what tells a takeover from a plain claim).
    """
    now = timezone.now()
    if respect_backoff:
        rows = rows.filter(due(now))
    token = uuid.uuid4().hex
    values = {
        "claim_token": token,
        "claimed_until": lease_end(seconds, now),
        "claimed_by": worker_name(),
        "swept_at": None,  # the job the sweep queued (if any) was taken: this one
        **changes,
    }
    if rows.filter(claimed_until__isnull=True).update(**values):
        return Claim(token, took_over=False)
    taken_over = {**values, "attempts": F("attempts") + 1, **(on_takeover or {})}
    if rows.filter(claimed_until__lt=now).update(**taken_over):
        return Claim(token, took_over=True)
    return None


def held(rows: QuerySet, token: str) -> QuerySet:
    """The row(s) of ``rows`` this token still holds (none once the lease was taken over)."""
    return rows.filter(claim_token=token)


def release(rows: QuerySet, token: str, **changes: Any) -> bool:
    """Give the row back, writing ``changes`` with it; ``False`` if the lease was lost."""
    return bool(held(rows, token).update(**RELEASED, **changes))


#: The sweep (``wagtail_kollus.sweep``) runs every this many minutes.
SWEEP_MINUTES = 1
#: A job queued this long ago without any worker taking its row is presumed lost (a Redis
#: broker does not hand out again the jobs a killed cluster had taken). Generous: a backlog
#: (a large ``kollus_sync``; callbacks, which Kollus sends one a second) must not be queued twice.
LOST_JOB_SECONDS = 15 * 60
#: Sooner when the broker's queue of our cluster is empty (``queue.broker_queue_empty``): a
#: job then waits behind no backlog, and one nobody took this long is in a running cluster's
#: own queue (``queue_limit``, workers² jobs taken within minutes) or was lost with a killed
#: one. Queuing it again is harmless either way: the first job to claim the row does the work,
#: the other finds nothing to do.
EMPTY_QUEUE_LOST_JOB_SECONDS = 5 * 60
#: django-q2's cluster looks for due schedules every 30 seconds: a run may start that late.
_SCHEDULER_LAG = timedelta(seconds=30)


def requeued_by(row: LeasedWork, requested_at: datetime | None, now: datetime) -> datetime:
    """When the scheduled sweep queues ``row`` (waiting, nobody holds it) again, at the latest:
    a whole minute, as editors read it.

    The rule of :func:`waiting_for_a_job`: an expired lease or a due retry is queued by the
    next run; work nobody ever claimed once it was requested ``LOST_JOB_SECONDS`` ago; and a
    row the sweep queued already, ``LOST_JOB_SECONDS`` after that while nobody takes it. Assumes the sweep's schedule runs and its
    own job is not queued behind a backlog.

    The bound that holds whatever the broker holds: with its queue empty the sweep queues
    never-claimed work sooner (``EMPTY_QUEUE_LOST_JOB_SECONDS``), but the queue may fill before
    that run, and the panel asking the broker on every view would only say so for a minute.
    """
    eligible = now
    if not (row.claimed_until or row.next_attempt_at or requested_at is None):
        eligible = max(requested_at + timedelta(seconds=LOST_JOB_SECONDS), now)
    if row.swept_at:  # the sweep queued a job nobody has taken yet: it waits for that one
        eligible = max(row.swept_at + timedelta(seconds=LOST_JOB_SECONDS), eligible)
    latest = eligible + timedelta(minutes=SWEEP_MINUTES) + _SCHEDULER_LAG
    whole_minute = latest.replace(second=0, microsecond=0)
    return whole_minute if whole_minute == latest else whole_minute + timedelta(minutes=1)


def waiting_for_a_job(
    rows: QuerySet, *, now: datetime, requested_before: Q | None, lost_after: float | None = None
) -> QuerySet:
    """The row(s) of ``rows`` that need a job queued, as the sweep sees them.

    * a lease that expired (its worker stopped and no other worker took the row over yet);
    * a retry that is due (no job is queued for a retry: the sweep is what queues it);
    * with ``requested_before``: work that nobody claimed since it was requested (its job was
      lost, e.g. with a Redis broker restarted without persistence). Recent requests are
      left to the job queued with them, so a backlog is not queued twice.

    With ``lost_after`` (seconds), a row the sweep queued a job for less than that long ago,
    which no worker has taken since, is left to that job too (see :func:`mark_swept`).
    """
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    rows = rows.filter(free).filter(due(now))
    if requested_before is not None:
        rows = rows.filter(
            Q(claimed_until__isnull=False) | Q(next_attempt_at__isnull=False) | requested_before
        )
    if lost_after is not None:
        rows = rows.filter(
            Q(swept_at__isnull=True) | Q(swept_at__lt=now - timedelta(seconds=lost_after))
        )
    return rows


def mark_swept(rows: QuerySet, now: datetime) -> int:
    """Note on ``rows`` that the sweep queued a job for them (in the transaction that queues
    it). Only rows nobody holds: a claim or a release clears the mark."""
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    return rows.filter(free).update(swept_at=now)


# --- what is worth another try -----------------------------------------------------------------
_TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    # "database is locked", a connection the server closed, a failover.
    OperationalError,
    InterfaceError,
    # Raised outside our API clients (which turn these into UnavailableError themselves).
    requests.ConnectionError,
    requests.Timeout,
    ConnectionError,
    TimeoutError,
)


def is_transient(error: BaseException) -> bool:
    """Whether trying again later may succeed without anyone changing anything.

    The API's own classification decides for its errors: 5xx, 429, timeouts and garbled
    answers are retried; its 4xx answers (401/403, 404, 422 with field errors) are final.
    Everything local that is about *now* rather than *what* (a busy or restarted database, a
    reset connection, a timeout) is retried too. Anything else is a bug or bad data: final.
    """
    if isinstance(error, KollusAPIError):
        return bool(error.retryable)
    return isinstance(error, _TRANSIENT_ERRORS)


def recover_connections(error: BaseException) -> None:
    """After a database error outside any transaction, drop connections that cannot be used.

    A PostgreSQL connection the server closed stays broken until it is replaced; without this
    the attempt to record the failure would fail the same way. Inside a transaction (a test,
    or a caller's ``atomic``) nothing is touched: closing would end that transaction.
    """
    if not isinstance(error, DatabaseError):
        return
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
