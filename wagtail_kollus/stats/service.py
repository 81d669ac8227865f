"""Statistics for a date range: the plugin's final snapshots first, Kollus for the rest.

Why snapshots first: once Kollus's 36-hour lag has passed, a day's figures no longer change,
so a snapshot recorded after that is as good as asking again, and asking costs one call per
second of the account's shared budget. A day is read from Kollus only when it has no final
snapshot and lies inside Kollus's one-year window; days before the window come from snapshots
(final or not) or are reported missing. Consecutive remote days are asked in one run (the
client splits runs longer than 92 days). See docs/statistics.md for the call budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Max, Sum

from ..models.stats import DailyStatsSnapshot, DailyVideoViews
from . import remote
from .periods import DateRange, contiguous_runs, oldest_day_kollus_answers, utc_today

ClientFactory = Callable[[], object]


@dataclass(slots=True)
class DailyPoint:
    date: date
    unique_visitors: int | None = None  # None: no figures for this day
    transfer_bytes: int | None = None


@dataclass(slots=True)
class VideoRank:
    upload_file_key: str
    title: str
    views: int = 0
    play_time_seconds: int = 0


@dataclass(slots=True)
class Provenance:
    """Where the figures of a result came from; drives the notices above the figures.

    A day without figures is without them for one of three reasons, each told differently:
    it is older than Kollus's year and was never recorded (``missing_days``: gone for good),
    Kollus did not answer and nothing was kept (``unanswered_days``: back when Kollus is), or,
    for one video's daily views only, the day is inside Kollus's year but not recorded yet
    (``unrecorded_days``: the period's total still counts it; recording it fills the chart).
    """

    remote_calls_needed: bool = False
    stale_since: datetime | None = None  # oldest last-good answer or snapshot used instead
    missing_days: set[date] = field(default_factory=set)
    unanswered_days: set[date] = field(default_factory=set)
    unrecorded_days: set[date] = field(default_factory=set)

    def mark_stale(self, since: datetime) -> None:
        if self.stale_since is None or since < self.stale_since:
            self.stale_since = since

    def add_missing(self, days) -> None:
        self.missing_days.update(days)

    def add_unanswered(self, days) -> None:
        self.unanswered_days.update(days)

    def merge(self, other: Provenance) -> None:
        if other.stale_since is not None:
            self.mark_stale(other.stale_since)
        self.missing_days |= other.missing_days
        self.unanswered_days |= other.unanswered_days
        self.unrecorded_days |= other.unrecorded_days
        self.remote_calls_needed |= other.remote_calls_needed

    @property
    def missing(self) -> list[DateRange]:
        return contiguous_runs(self.missing_days)

    @property
    def unanswered(self) -> list[DateRange]:
        return contiguous_runs(self.unanswered_days)

    @property
    def unrecorded(self) -> list[DateRange]:
        return contiguous_runs(self.unrecorded_days)

    @property
    def is_stale(self) -> bool:
        return self.stale_since is not None


@dataclass(slots=True)
class AccountSeries:
    period: DateRange
    points: list[DailyPoint]
    provenance: Provenance

    @property
    def total_visitors(self) -> int:
        return sum(p.unique_visitors or 0 for p in self.points)

    @property
    def total_transfer_bytes(self) -> int:
        return sum(p.transfer_bytes or 0 for p in self.points)


@dataclass(slots=True)
class Ranking:
    period: DateRange
    rows: list[VideoRank]
    provenance: Provenance


# --- the account's daily summary ------------------------------------------------------------


def _summary_rows(client_factory: ClientFactory, run: DateRange) -> list[tuple]:
    client = client_factory()
    try:
        rows = client.summary_daily(run.start, run.end)
    finally:
        client.close()
    return [(r.date, r.unique_visitors, r.transfer_bytes) for r in rows if r.date]


def account_series(
    period: DateRange,
    *,
    today: date | None = None,
    client_factory: ClientFactory = remote.make_client,
) -> AccountSeries:
    """Visitors and transfer per day of ``period``."""
    today = today or utc_today()
    oldest_remote = oldest_day_kollus_answers(today)
    snapshots = {
        s.date: s for s in DailyStatsSnapshot.objects.filter(date__range=(period.start, period.end))
    }
    points = {day: DailyPoint(day) for day in period}
    provenance = Provenance()
    remote_days = []
    for day in period:
        snapshot = snapshots.get(day)
        if snapshot is not None and (snapshot.is_final or day < oldest_remote):
            _fill_from_snapshot(points[day], snapshot)
        elif oldest_remote <= day <= today:
            remote_days.append(day)
        elif snapshot is None and day <= today:
            provenance.add_missing([day])
    for run in contiguous_runs(remote_days):
        provenance.remote_calls_needed = True
        try:
            fetched = remote.fetch(
                "summary", run.start, run.end, lambda run=run: _summary_rows(client_factory, run)
            )
        except remote.StatisticsUnavailable:
            _fall_back_to_snapshots(run, points, snapshots, provenance)
            continue
        if fetched.stale:
            provenance.mark_stale(fetched.fetched_at)
        for day, visitors, transfer in fetched.value:
            if day in points:
                points[day].unique_visitors = visitors
                points[day].transfer_bytes = transfer
    return AccountSeries(period, [points[d] for d in period], provenance)


def _fill_from_snapshot(point: DailyPoint, snapshot: DailyStatsSnapshot) -> None:
    point.unique_visitors = snapshot.unique_visitors
    point.transfer_bytes = snapshot.transfer_bytes


def _fall_back_to_snapshots(run, points, snapshots, provenance: Provenance) -> None:
    """Kollus is down and nothing is cached: provisional snapshots are the last good figures."""
    unanswered = []
    for day in run:
        snapshot = snapshots.get(day)
        if snapshot is None:
            unanswered.append(day)
        else:
            _fill_from_snapshot(points[day], snapshot)
            provenance.mark_stale(snapshot.recorded_at)
    provenance.add_unanswered(unanswered)


# --- views per video ------------------------------------------------------------------------


def _rank_rows(client_factory: ClientFactory, run: DateRange) -> list[tuple]:
    client = client_factory()
    try:
        ranks = client.content_rank(run.start, run.end)
    finally:
        client.close()
    return [(r.upload_file_key, r.title, r.views, r.play_time_seconds) for r in ranks]


def fetch_rank(
    run: DateRange, client_factory: ClientFactory = remote.make_client
) -> remote.Fetched:
    """Kollus's content ranking of ``run`` (cached; raises StatisticsUnavailable)."""
    return remote.fetch("rank", run.start, run.end, lambda: _rank_rows(client_factory, run))


def _video_days(period: DateRange) -> dict[date, DailyStatsSnapshot]:
    return {
        s.date: s
        for s in DailyStatsSnapshot.objects.filter(
            date__range=(period.start, period.end), videos_recorded_at__isnull=False
        )
    }


def ranking(
    period: DateRange,
    *,
    today: date | None = None,
    client_factory: ClientFactory = remote.make_client,
) -> Ranking:
    """Views and play time per video over ``period``, most viewed first."""
    today = today or utc_today()
    oldest_remote = oldest_day_kollus_answers(today)
    recorded = _video_days(period)
    provenance = Provenance()
    local_days, remote_days = [], []
    for day in period:
        snapshot = recorded.get(day)
        if snapshot is not None and (snapshot.videos_are_final or day < oldest_remote):
            local_days.append(day)
        elif oldest_remote <= day <= today:
            remote_days.append(day)
        elif day <= today:
            provenance.add_missing([day])
    totals: dict[str, VideoRank] = {}
    _add_snapshot_views(totals, local_days)
    for run in contiguous_runs(remote_days):
        provenance.remote_calls_needed = True
        try:
            fetched = fetch_rank(run, client_factory)
        except remote.StatisticsUnavailable:
            fallback = [d for d in run if d in recorded]
            _add_snapshot_views(totals, fallback)
            for day in fallback:
                provenance.mark_stale(recorded[day].videos_recorded_at)
            provenance.add_unanswered([d for d in run if d not in recorded])
            continue
        if fetched.stale:
            provenance.mark_stale(fetched.fetched_at)
        for key, title, views, play_time in fetched.value:
            _add(totals, key, title, views, play_time)
    rows = sorted(totals.values(), key=lambda r: (-r.views, -r.play_time_seconds, r.title))
    return Ranking(period, rows, provenance)


def _add(totals: dict[str, VideoRank], key: str, title: str, views: int, play: int) -> None:
    row = totals.get(key)
    if row is None:
        totals[key] = VideoRank(key, title, views, play)
    else:
        row.views += views
        row.play_time_seconds += play
        row.title = row.title or title


def _days_filter(days: list[date]) -> dict:
    """A lookup for ``days`` that stays small: long ranges are a date range minus a few gaps
    (databases cap the number of query parameters; SQLite's old limit is 999)."""
    first, last = min(days), max(days)
    gaps = set(DateRange(first, last)) - set(days)
    if not gaps:
        return {"date__range": (first, last)}
    if len(gaps) < len(days):
        return {"date__range": (first, last), "gaps": gaps}
    return {"date__in": days}


def _add_snapshot_views(totals: dict[str, VideoRank], days: list[date]) -> None:
    if not days:
        return
    lookup = _days_filter(days)
    gaps = lookup.pop("gaps", None)
    rows = DailyVideoViews.objects.filter(**lookup)
    if gaps:
        rows = rows.exclude(date__in=gaps)
    sums = rows.values("upload_file_key").annotate(
        views=Sum("views"), play=Sum("play_time_seconds"), title=Max("title")
    )
    for row in sums:
        _add(totals, row["upload_file_key"], row["title"] or "", row["views"], row["play"])


# --- one video: its total and its days ------------------------------------------------------


@dataclass(slots=True)
class DailyViews:
    date: date
    views: int | None = None  # None: not known for this day


@dataclass(slots=True)
class VideoSeries:
    """One video over a period: its total from the period's ranking (the very figures the
    report shows for it) and its views per day, as far as they are known."""

    period: DateRange
    upload_file_key: str
    rank: VideoRank | None  # None: no views in the period (or none Kollus could tell)
    points: list[DailyViews]
    provenance: Provenance

    @property
    def views(self) -> int:
        return self.rank.views if self.rank else 0

    @property
    def play_time_seconds(self) -> int:
        return self.rank.play_time_seconds if self.rank else 0

    @property
    def kollus_title(self) -> str:
        return self.rank.title if self.rank else ""


def video_series(
    upload_file_key: str,
    period: DateRange,
    *,
    today: date | None = None,
    client_factory: ClientFactory = remote.make_client,
) -> VideoSeries:
    """``upload_file_key``'s views over ``period``: the total and the daily breakdown.

    The total is the video's row of :func:`ranking` for the same period (one cached call
    shared with the report and the other videos' pages), so the report and this view can never
    disagree. Kollus has no per-video daily endpoint, so the days come from the recorded
    snapshots; see :func:`video_daily_views` for the few recent days asked live.
    """
    today = today or utc_today()
    period_ranking = ranking(period, today=today, client_factory=client_factory)
    rank = next((r for r in period_ranking.rows if r.upload_file_key == upload_file_key), None)
    points, provenance = video_daily_views(
        upload_file_key, period, today=today, client_factory=client_factory
    )
    provenance.merge(period_ranking.provenance)
    return VideoSeries(period, upload_file_key, rank, points, provenance)


def video_daily_views(
    upload_file_key: str,
    period: DateRange,
    *,
    today: date | None = None,
    client_factory: ClientFactory = remote.make_client,
) -> tuple[list[DailyViews], Provenance]:
    """Daily views of one video: a day's views are that day's content ranking, read from
    snapshots, or (for the few most recent unrecorded days) asked from Kollus one day per call.

    A day inside Kollus's year with neither is *unrecorded* (recording it fills it in); a day
    before that year with no snapshot is *missing* (Kollus cannot give it any more).
    """
    from ..conf import kollus_settings

    today = today or utc_today()
    oldest_remote = oldest_day_kollus_answers(today)
    recorded = _video_days(period)
    views = dict(
        DailyVideoViews.objects.filter(
            upload_file_key=upload_file_key, date__range=(period.start, period.end)
        ).values_list("date", "views")
    )
    points = {day: DailyViews(day) for day in period}
    provenance = Provenance()
    live_budget = int(kollus_settings.STATS_LIVE_DAYS_PER_VIDEO)
    for day in reversed(list(period)):  # newest first: the live budget goes to recent days
        snapshot = recorded.get(day)
        if day > today:
            continue
        final = snapshot is not None and (snapshot.videos_are_final or day < oldest_remote)
        failed = False
        if not final and day >= oldest_remote and live_budget > 0:
            live_budget -= 1
            provenance.remote_calls_needed = True
            try:
                fetched = fetch_rank(DateRange(day, day), client_factory)
            except remote.StatisticsUnavailable:
                failed = True
            else:
                if fetched.stale:
                    provenance.mark_stale(fetched.fetched_at)
                points[day].views = next(
                    (v for key, _t, v, _p in fetched.value if key == upload_file_key), 0
                )
                continue
        if snapshot is not None:
            points[day].views = views.get(day, 0)
            if failed:
                provenance.mark_stale(snapshot.videos_recorded_at)
        elif failed:
            provenance.add_unanswered([day])
        elif day >= oldest_remote:
            provenance.unrecorded_days.add(day)
        else:
            provenance.add_missing([day])
    return [points[d] for d in period], provenance


def unrecorded_video_days(period: DateRange, *, today: date | None = None) -> list[date]:
    """The days of ``period`` inside Kollus's year with no per-video views recorded at all:
    what recording them (``stats.recording``) fills in. Provisional days are left to the
    daily schedule, which records them again anyway."""
    today = today or utc_today()
    oldest_remote = oldest_day_kollus_answers(today)
    recorded = _video_days(period)
    return [day for day in period if oldest_remote <= day <= today and day not in recorded]
