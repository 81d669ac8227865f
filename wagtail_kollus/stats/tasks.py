"""The daily snapshot schedule (django-q2). Thin: the work is in ``stats.snapshots``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django_q.models import Schedule

from ..conf import kollus_settings
from ..queue import ensure_schedule as ensure
from .service import prepare_rankings
from .snapshots import record_recent_days

SCHEDULE_NAME = "wagtail_kollus: record daily statistics"
TASK_PATH = "wagtail_kollus.stats.tasks.record_daily_snapshot"
# A failed run (a refused access token, an outage) is kept as failed *and acknowledged*.
# Unacknowledged, django-q2 hands it out again every ``retry`` seconds, for ever with its
# default ``max_attempts`` (0): a refused token would be sent to Kollus again and again. The
# next day's run records the same days again (``STATS_RECORD_DAYS``), so waiting loses nothing.
SCHEDULE_KWARGS = "q_options={'ack_failure': True}"


def record_daily_snapshot() -> str:
    """django-q2 task: record the last few days (idempotent; a rerun replaces them), then
    sum the recorded days of each preset period once for the day's reports (``rollups``)."""
    summary = record_recent_days().summary
    prepare_rankings()
    return summary


def _next_run(now: datetime | None = None) -> datetime:
    hour, minute = (int(part) for part in str(kollus_settings.STATS_SCHEDULE_TIME).split(":"))
    now = now or datetime.now(UTC)
    run = datetime.combine(now.date(), time(hour, minute), tzinfo=UTC)
    return run if run > now else run + timedelta(days=1)


def ensure_schedule() -> tuple[object, bool]:
    """Create the daily schedule unless it exists; return ``(schedule, created)``.

    Safe to call on every deploy (``manage.py kollus_stats --install-schedule``) or from
    ``post_migrate``: an existing schedule keeps its next run, only its task path and cluster
    are corrected, and it gets ``SCHEDULE_KWARGS`` if it has no keyword arguments (the task
    takes none).
    """
    schedule, created = ensure(
        SCHEDULE_NAME,
        TASK_PATH,
        schedule_type=Schedule.DAILY,
        next_run=_next_run(),
        kwargs=SCHEDULE_KWARGS,
    )
    if not created and not schedule.kwargs:
        schedule.kwargs = SCHEDULE_KWARGS
        schedule.save(update_fields=["kwargs"])
    return schedule, created
