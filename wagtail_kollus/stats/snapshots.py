"""Recording daily snapshots: the plugin's own statistics history.

Per day, one content-ranking call (Kollus has no per-video daily endpoint, so "views of video
V on day D" is the ranking of the one-day range D) and a share of one summary-daily call
(the client splits ranges over 92 days). Recording a day replaces what was recorded for it,
so re-running the schedule or a backfill is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import transaction

from ..accounts import KollusAccount, kollus_client
from ..api.errors import KollusAPIError
from ..api.vod import KollusClient
from ..conf import kollus_settings
from ..models.stats import DailyStatsSnapshot, DailyVideoViews
from .failures import REFUSED, failure_kind, for_operators
from .periods import DateRange, oldest_day_kollus_answers, utc_today

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class RecordResult:
    recorded_days: list[date] = field(default_factory=list)
    skipped_days: list[date] = field(default_factory=list)  # outside Kollus's window
    final_days: list[date] = field(default_factory=list)  # kept: recorded final before

    @property
    def summary(self) -> str:
        text = f"recorded {len(self.recorded_days)} day(s)"
        if self.final_days:
            text += f"; kept {len(self.final_days)} day(s) recorded final before"
        if self.skipped_days:
            text += (
                f"; skipped {len(self.skipped_days)} day(s) outside Kollus's one-year window "
                f"({self.skipped_days[0]} – {self.skipped_days[-1]})"
            )
        return text


def record_days(
    period: DateRange,
    *,
    client: KollusClient | None = None,
    account: KollusAccount | None = None,
    today: date | None = None,
    progress: Callable[[date], None] | None = None,
    keep_final: bool = False,
) -> RecordResult:
    """Ask Kollus for every day of ``period`` it still answers for, and store them.

    ``keep_final``: leave out the days already recorded final (:func:`final_days`), so a
    backfill that stopped goes on where it stopped (``kollus_stats --backfill --resume``).

    ``client`` defaults to a client of ``account`` (default: the settings' account) with its
    full retry policy (this runs in the background, where waiting is fine). Raises
    ``KollusAPIError`` when Kollus fails; days stored before the failure stay stored.
    """
    today = today or utc_today()
    oldest = oldest_day_kollus_answers(today)
    result = RecordResult()
    days = []
    for day in period:
        if oldest <= day <= today:
            days.append(day)
        else:
            result.skipped_days.append(day)
    if keep_final and days:
        final = final_days(DateRange(days[0], days[-1]))
        result.final_days = [day for day in days if day in final]
        days = [day for day in days if day not in final]
    if not days:
        return result
    own_client = client is None
    client = client or kollus_client(account)
    try:
        summaries = {s.date: s for s in client.summary_daily(days[0], days[-1]) if s.date}
        for day in days:
            ranks = client.content_rank(day, day)
            _store_day(day, summaries.get(day), ranks)
            result.recorded_days.append(day)
            if progress:
                progress(day)
    finally:
        if own_client:
            client.close()
    return result


@transaction.atomic
def final_days(period: DateRange) -> set[date]:
    """The days of ``period`` recorded at least ``STATS_RECORD_DAYS`` days after they ended:
    their figures are final (the daily schedule re-records the days before that)."""
    settle = timedelta(days=max(1, int(kollus_settings.STATS_RECORD_DAYS)))
    recorded = DailyStatsSnapshot.objects.filter(
        date__gte=period.start, date__lte=period.end, videos_recorded_at__isnull=False
    ).values_list("date", "videos_recorded_at")
    return {day for day, at in recorded if at.date() >= day + settle}


def _store_day(day: date, summary, ranks) -> None:
    now = datetime.now(UTC)
    DailyStatsSnapshot.objects.update_or_create(
        date=day,
        defaults={
            "unique_visitors": summary.unique_visitors if summary else 0,
            "transfer_bytes": summary.transfer_bytes if summary else 0,
            "traffic_bps": summary.traffic_bps if summary else 0,
            "storage_bytes": summary.storage_bytes if summary else 0,
            "transcoding_count": summary.transcoding_count if summary else 0,
            "transcoding_bytes": summary.transcoding_bytes if summary else 0,
            "recorded_at": now,
            "videos_recorded_at": now,
        },
    )
    # A raw delete: the ORM's would first load the day's rows (one per video) to send delete
    # signals, which other apps listen to for every model.
    replaced = DailyVideoViews.objects.filter(date=day)
    replaced._raw_delete(replaced.db)
    DailyVideoViews.objects.bulk_create(
        DailyVideoViews(
            date=day,
            upload_file_key=rank.upload_file_key,
            title=rank.title[:255],
            views=rank.views,
            play_time_seconds=rank.play_time_seconds,
        )
        for rank in ranks
        if rank.upload_file_key
    )


def log_recording_failure(error: KollusAPIError) -> None:
    """A refused access token is an error to fix, logged as one; an outage is a warning (the
    next run records the same days again)."""
    level = logging.ERROR if failure_kind(error) == REFUSED else logging.WARNING
    logger.log(level, "Kollus statistics not recorded: %s", for_operators(error))


def record_recent_days(
    today: date | None = None, *, account: KollusAccount | None = None
) -> RecordResult:
    """What the daily schedule runs: the last ``STATS_RECORD_DAYS`` full days, again.

    Yesterday's figures are provisional (Kollus lags up to 36 h); recording the last few days
    every day replaces them with final ones.
    """
    today = today or utc_today()
    days = max(1, int(kollus_settings.STATS_RECORD_DAYS))
    period = DateRange(today - timedelta(days=days), today - timedelta(days=1))
    try:
        result = record_days(period, today=today, account=account)
    except KollusAPIError as error:
        log_recording_failure(error)
        raise  # django-q2 keeps the task as failed, with the api layer's error
    logger.info("Kollus statistics snapshot: %s", result.summary)
    return result
