"""Recording unrecorded days on an editor's request (the per-video view's "Record" button).

What ``kollus_stats --backfill`` does, for the days of one period that have no snapshot yet,
queued to the django-q2 worker so that no editor needs a shell. One request at a time per
site: the days are paced by the account's shared rate limit (about a second each), and a
second request while one runs would only spend the same calls twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.core.cache import caches

from ..api.errors import KollusAPIError
from ..conf import kollus_settings
from ..queue import enqueue
from .failures import TRANSIENT, failure_kind, for_operators
from .periods import DateRange, contiguous_runs
from .service import unrecorded_video_days
from .snapshots import log_recording_failure, record_days

logger = logging.getLogger(__name__)

TASK_PATH = "wagtail_kollus.stats.recording.record_unrecorded_days"
TASK_GROUP = "wagtail_kollus_stats"
_KEY = "wagtail_kollus:stats:recording"
# Beyond the expected duration, how long a request blocks another one if its worker died
# without saying it finished (the marker then simply expires).
_MARGIN_SECONDS = 600


@dataclass(frozen=True, slots=True)
class RecordingRequest:
    start: date
    end: date
    days: int
    requested_at: datetime

    @property
    def expected_seconds(self) -> int:
        """One ranking call per day and one summary call per 92 days, at one call a second."""
        return self.days + self.days // 92 + 1


def _cache():
    return caches[kollus_settings.CACHE_ALIAS]


def current() -> RecordingRequest | None:
    """The request being recorded now, if any."""
    return _cache().get(_KEY)


def request_recording(period: DateRange, *, today: date | None = None) -> RecordingRequest | None:
    """Queue the recording of ``period``'s unrecorded days and return it; while another
    request runs, return that one instead (nothing is queued). None: nothing to record."""
    days = unrecorded_video_days(period, today=today)
    if not days:
        return None
    recording = RecordingRequest(days[0], days[-1], len(days), datetime.now(UTC))
    timeout = recording.expected_seconds + _MARGIN_SECONDS
    if not _cache().add(_KEY, recording, timeout):
        return current()
    enqueue(TASK_PATH, days[0].isoformat(), days[-1].isoformat(), group=TASK_GROUP)
    return recording


def record_unrecorded_days(start: str, end: str) -> str:
    """django-q2 task: record the days of ``start``..``end`` (ISO dates) with no snapshot.

    An outage is raised, so django-q2 hands the task out again later; a refusal (a wrong
    access token, another 4xx) is logged as an error and ends the task: asking again with the
    same token can only be refused again."""
    try:
        period = DateRange(date.fromisoformat(start), date.fromisoformat(end))
        recorded = 0
        try:
            for run in contiguous_runs(unrecorded_video_days(period)):
                recorded += len(record_days(run).recorded_days)
        except KollusAPIError as error:
            log_recording_failure(error)
            if failure_kind(error) == TRANSIENT:
                raise
            return f"recorded {recorded} day(s), then stopped: {for_operators(error)}"
        summary = f"recorded {recorded} day(s) of {period.start} – {period.end}"
        logger.info("Kollus statistics on request: %s", summary)
        return summary
    finally:
        _cache().delete(_KEY)
