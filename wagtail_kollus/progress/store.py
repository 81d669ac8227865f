"""Recording one LMS report: one read and one write, and the signals once, after commit.

At 10 000 learners reporting every 30–60 s the LMS callback is the busiest URL of a course
site, so a report is applied in the request, not queued: read the learner's row (one indexed
query), merge in Python, and write it with one statement — an ``INSERT … ON CONFLICT DO
NOTHING`` for a new row, an ``UPDATE … WHERE id = … AND revision = …`` for an existing one.
Two devices reporting at once cannot lose each other's seconds: the second write finds the
revision changed, reads again and merges again (:data:`_ATTEMPTS` times at most).

A report that adds nothing (the same callback again, a replay, an older report arriving
late) writes nothing and sends nothing. The position moves only with a report newer than the
row's last one, so a late or replayed report never sends the learner back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.db.models.constants import OnConflict

from ..conf import kollus_settings
from ..models import LearnerProgress
from ..signals import page_completed, progress_updated, send_robustly, video_completed
from .intervals import merge_intervals, total_seconds
from .lessons import page_is_completed, page_video_keys
from .lms import LmsReport
from .statements import UPDATED_FIELDS, read_row, update_row

logger = logging.getLogger("wagtail_kollus.progress")

_ATTEMPTS = 3
# A report dated further ahead than this is dated now (a player's clock may be wrong).
_CLOCK_SLACK = 60
@dataclass(frozen=True)
class Recorded:
    """What one report did: ``changed`` False means nothing was written."""

    changed: bool
    created: bool = False
    completed_now: bool = False
    row: LearnerProgress | None = None


def _percent(watched: int, duration: int | None) -> int:
    if not duration:
        return 0
    return min(100, watched * 100 // duration)


def _merged(row: LearnerProgress, report: LmsReport, moment: datetime, is_new: bool) -> bool:
    """Apply ``report`` to ``row`` in memory; whether anything changed."""
    before = tuple(getattr(row, name) for name in UPDATED_FIELDS)
    row.duration = report.duration or row.duration
    row.watched_intervals = merge_intervals(
        row.watched_intervals or [], report.watched_intervals(row.duration)
    )
    row.watched_seconds = total_seconds(row.watched_intervals)
    row.percent = _percent(row.watched_seconds, row.duration)
    # Reports are dated to the second, and a player reports several times in one (a pause
    # right after a periodic report): the later of equals wins, an older one never does.
    if is_new or moment >= row.last_watched_at:
        if report.position is not None:
            row.last_position = min(report.position, row.duration or report.position)
        row.last_watched_at = moment
    threshold = int(kollus_settings.PROGRESS_COMPLETION_PERCENT)
    if row.completed_at is None and row.duration and row.percent >= threshold:
        row.completed_at = moment
    return before != tuple(getattr(row, name) for name in UPDATED_FIELDS)


def _report_moment(report: LmsReport, now: datetime) -> datetime:
    if report.reported_at is None or report.reported_at > now.timestamp() + _CLOCK_SLACK:
        return now
    return datetime.fromtimestamp(report.reported_at, tz=UTC)


def _insert_new(row: LearnerProgress) -> bool:
    """Insert ``row`` unless another request just did; whether this one did."""
    opts = LearnerProgress._meta
    returned = LearnerProgress.objects._insert(
        [row],
        fields=[f for f in opts.concrete_fields if not f.primary_key],
        returning_fields=[opts.pk],
        on_conflict=OnConflict.IGNORE,
    )
    # On a conflict nothing is returned: [] or [None], depending on the backend's path.
    if not returned or returned[0] is None:
        return False
    row.pk = returned[0][0]
    row._state.adding = False
    return True


def record_report(
    learner_id: int, page_id: int, media_content_key: str, report: LmsReport
) -> Recorded:
    """Merge ``report`` into the learner's row for this video and page (see the module)."""
    now = datetime.now(tz=UTC)
    moment = _report_moment(report, now)
    lookup = {"learner_id": learner_id, "page_id": page_id, "media_content_key": media_content_key}
    for _attempt in range(_ATTEMPTS):
        row = read_row(learner_id, page_id, media_content_key)
        if row is None:
            row = LearnerProgress(**lookup, first_watched_at=moment, last_watched_at=moment)
            _merged(row, report, moment, is_new=True)
            if _insert_new(row):
                return _committed(Recorded(True, True, row.completed_at is not None, row))
            continue  # another device created it meanwhile: merge into theirs
        was_completed = row.completed_at is not None
        if not _merged(row, report, moment, is_new=False):
            return Recorded(False, row=row)
        if update_row(row):
            completed_now = not was_completed and row.completed_at is not None
            return _committed(Recorded(True, False, completed_now, row))
    logger.warning("LMS report not recorded: the row kept changing (%s attempts).", _ATTEMPTS)
    return Recorded(False)


def _committed(recorded: Recorded) -> Recorded:
    """Send the signals once the write is committed (at once outside a transaction)."""
    transaction.on_commit(lambda: send_progress_signals(recorded))
    return recorded


def send_progress_signals(recorded: Recorded) -> None:
    """``progress_updated``, and ``video_completed``/``page_completed`` on the report that
    completed them. Of two videos of a page completed at the same moment, the row with the
    latest ``(completed_at, pk)`` sends ``page_completed``: both requests see both complete,
    only one is last."""
    row = recorded.row
    send_robustly(progress_updated, LearnerProgress, instance=row, created=recorded.created)
    if not recorded.completed_now:
        return
    send_robustly(video_completed, LearnerProgress, instance=row)
    keys = page_video_keys(row.page_id)
    if row.media_content_key not in keys or not page_is_completed(
        row.learner_id, row.page_id, keys
    ):
        return
    last = (
        LearnerProgress.objects.filter(
            learner_id=row.learner_id,
            page_id=row.page_id,
            media_content_key__in=keys,
            completed_at__isnull=False,
        )
        .order_by("-completed_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if last == row.pk:
        send_robustly(
            page_completed, LearnerProgress, learner_id=row.learner_id, page_id=row.page_id,
            instance=row,
        )
