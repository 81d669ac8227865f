"""Privacy of learner progress: how long it is kept, and what one learner may ask for.

* ``PROGRESS_RETENTION_DAYS`` (``None``: kept for ever): rows not watched for that many days
  are deleted by :func:`purge_expired_progress`, which a daily django-q2 schedule runs
  (``manage.py kollus_progress_purge --install-schedule``).
* Deleting a user deletes their progress: the rows' foreign key cascades (no code here).
* :func:`learner_data` is everything stored about one learner's progress, for the JSON the
  admin offers and ``manage.py kollus_progress_export`` writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from ..conf import kollus_settings
from ..models import LearnerProgress
from ..queue import ensure_schedule as ensure
from .figures import export_rows

SCHEDULE_NAME = "wagtail_kollus: purge learner progress"
TASK_PATH = "wagtail_kollus.learners.privacy.purge_expired_progress"
# Rows deleted per statement: short transactions (callbacks keep writing meanwhile), and far
# below every database's limit of parameters.
PURGE_BATCH = 1000

# The fields of one row in a learner's data export, in order (also the CSV's columns).
DATA_FIELDS = (
    "page_id",
    "page_title",
    "page_url",
    "media_content_key",
    "video_title",
    "percent",
    "watched_seconds",
    "duration",
    "last_position",
    "watched_intervals",
    "first_watched_at",
    "last_watched_at",
    "completed_at",
)


def retention_cutoff(now: datetime | None = None) -> datetime | None:
    """Rows last watched before this are expired; ``None`` when progress is kept for ever."""
    days = kollus_settings.PROGRESS_RETENTION_DAYS
    if days is None:
        return None
    return (now or timezone.now()) - timedelta(days=int(days))


def purge_expired_progress(now: datetime | None = None) -> int:
    """django-q2 task: delete the progress rows older than the retention; returns how many."""
    cutoff = retention_cutoff(now)
    if cutoff is None:
        return 0
    expired = LearnerProgress.objects.filter(last_watched_at__lt=cutoff).order_by("pk")
    deleted = 0
    while True:
        batch = list(expired.values_list("pk", flat=True)[:PURGE_BATCH])
        if not batch:
            return deleted
        with transaction.atomic():
            # Filtered again: a row watched since it was read is no longer expired.
            count, _ = LearnerProgress.objects.filter(
                pk__in=batch, last_watched_at__lt=cutoff
            ).delete()
        deleted += count


def ensure_schedule() -> tuple[Any, bool]:
    """Create the daily purge schedule unless it exists; ``(schedule, created)``."""
    return ensure(SCHEDULE_NAME, TASK_PATH, schedule_type=Schedule.DAILY)


def learner_rows(learner: AbstractBaseUser) -> Iterator[dict[str, Any]]:
    """Each progress row of ``learner`` as plain values (JSON-ready), oldest lesson first."""
    rows = LearnerProgress.objects.filter(learner=learner).order_by("first_watched_at", "pk")
    for row in export_rows(rows):
        page = row.progress.page
        yield {
            "page_id": row.page_id,
            "page_title": page.title,
            "page_url": page.full_url or "",
            "media_content_key": row.media_content_key,
            "video_title": row.video_title,
            "percent": row.percent,
            "watched_seconds": row.watched_seconds,
            "duration": row.duration,
            "last_position": row.last_position,
            "watched_intervals": row.watched_intervals,
            "first_watched_at": _iso(row.first_watched_at),
            "last_watched_at": _iso(row.last_watched_at),
            "completed_at": _iso(row.completed_at),
        }


def learner_data(learner: AbstractBaseUser) -> dict[str, Any]:
    """Everything stored about ``learner``'s progress, with who they are and when it was made."""
    return {
        "learner": {"id": learner.pk, "username": learner.get_username()},
        "exported_at": _iso(timezone.now()),
        "retention_days": kollus_settings.PROGRESS_RETENTION_DAYS,
        "progress": list(learner_rows(learner)),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
