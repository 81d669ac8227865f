"""Statistics for a date range: the plugin's final snapshots first, Kollus for the rest.

Why snapshots first: once Kollus's 36-hour lag has passed, a day's figures no longer change,
so a snapshot recorded after that is as good as asking again, and asking costs one call per
second of the account's shared budget. A day is read from Kollus only when it has no final
snapshot and lies inside Kollus's one-year window; days before the window come from snapshots
(final or not) or are reported missing. Consecutive remote days are asked in one run (the
client splits runs longer than 92 days). See docs/statistics.md for the call budget.

Rankings (views per video) are not added up on each load: both sources are stored as rollups
(``stats.rollups``), and the screens read the rows they show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ..api.errors import KollusAPIError
from ..models.stats import DailyStatsSnapshot, DailyVideoViews, StatsRollup, StatsRollupRow
from . import failures, remote, rollups
from .periods import (
    PRESET_DAYS,
    DateRange,
    contiguous_runs,
    oldest_day_kollus_answers,
    utc_today,
)

ClientFactory = Callable[[], object]


@dataclass(slots=True)
class DailyPoint:
    date: date
    unique_visitors: int | None = None  # None: no figures for this day
    transfer_bytes: int | None = None


@dataclass(slots=True)
class Provenance:
    """Where the figures of a result came from; drives the notices above the figures.

    A day without figures is without them for one of three reasons, each told differently:
    it is older than Kollus's year and was never recorded (``missing_days``: gone for good),
    Kollus did not answer and nothing was kept (``unanswered_days``: back when Kollus is), or,
    for one video's daily views only, the day is inside Kollus's year but not recorded yet
    (``unrecorded_days``: the period's total still counts it; recording it fills the chart).

    ``failure`` is why Kollus gave no answer (stale or unanswered days), the most telling of
    the page's failures (``stats.failures``): the notices word an outage, a refused access
    token and another refusal differently.
    """

    remote_calls_needed: bool = False
    stale_since: datetime | None = None  # oldest last-good answer or snapshot used instead
    missing_days: set[date] = field(default_factory=set)
    unanswered_days: set[date] = field(default_factory=set)
    unrecorded_days: set[date] = field(default_factory=set)
    failure: KollusAPIError | None = None

    def mark_stale(self, since: datetime) -> None:
        if self.stale_since is None or since < self.stale_since:
            self.stale_since = since

    def add_missing(self, days) -> None:
        self.missing_days.update(days)

    def add_unanswered(self, days) -> None:
        self.unanswered_days.update(days)

    def note_failure(self, error: KollusAPIError | None) -> None:
        self.failure = failures.most_telling(self.failure, error)

    def merge(self, other: Provenance) -> None:
        if other.stale_since is not None:
            self.mark_stale(other.stale_since)
        self.missing_days |= other.missing_days
        self.unanswered_days |= other.unanswered_days
        self.unrecorded_days |= other.unrecorded_days
        self.remote_calls_needed |= other.remote_calls_needed
        self.note_failure(other.failure)

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

    @property
    def failure_kind(self) -> str:
        """``transient``, ``refused`` or ``other`` (``stats.failures``), for the notices."""
        return failures.failure_kind(self.failure)

    @property
    def failure_reason(self) -> str:
        return failures.reason(self.failure)


@dataclass(slots=True)
class AccountSeries:
    period: DateRange
    points: list[DailyPoint]
    provenance: Provenance

    @property
    def total_visitors(self) -> int | None:
        """None when no day of the period has figures (Kollus failed and nothing was
        recorded): unknown, not zero."""
        return _total(p.unique_visitors for p in self.points)

    @property
    def total_transfer_bytes(self) -> int | None:
        return _total(p.transfer_bytes for p in self.points)


def _total(values) -> int | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


@dataclass(slots=True)
class Ranking:
    """Views and play time per video over ``period``, stored as a rollup (``stats.rollups``):
    read it a page at a time, whatever the number of videos."""

    period: DateRange
    rollup: StatsRollup | None  # None: no day of the period has figures (not even zero)
    provenance: Provenance

    @property
    def count(self) -> int:
        return self.rollup.row_count if self.rollup else 0

    @property
    def measured(self) -> bool:
        """False when no day of the period has figures: Kollus failed (or the days are older
        than its year) and nothing was recorded. A measured period without views has a rollup
        with no rows."""
        return self.rollup is not None

    @property
    def total_views(self) -> int | None:
        """None when not :attr:`measured`: unknown, not zero."""
        return self.rollup.total_views if self.rollup else None

    def ordered(self, ordering: str = "-views") -> rollups.RankedRows:
        """Every row, in one of the report's orders (``rollups.ORDERINGS``); slice it."""
        return rollups.RankedRows(self.rollup, ordering)

    def top(self, count: int) -> list[StatsRollupRow]:
        return self.ordered()[:count]

    def row_for(self, upload_file_key: str) -> StatsRollupRow | None:
        return self.ordered().get(upload_file_key)

    @property
    def rows(self) -> list[StatsRollupRow]:
        """Every row, most viewed first. Reads the whole ranking: for tests and scripts; the
        screens read pages through :meth:`ordered`."""
        return list(self.ordered())


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
        except remote.StatisticsUnavailable as unavailable:
            provenance.note_failure(unavailable.error)
            _fall_back_to_snapshots(run, points, snapshots, provenance)
            continue
        if fetched.stale:
            provenance.mark_stale(fetched.fetched_at)
            provenance.note_failure(fetched.error)
        for day, visitors, transfer in fetched.value:
            if day in points:
                points[day].unique_visitors = visitors
                points[day].transfer_bytes = transfer
    return AccountSeries(period, [points[d] for d in period], provenance)


def _fill_from_snapshot(point: DailyPoint, snapshot: DailyStatsSnapshot) -> None:
    point.unique_visitors = snapshot.unique_visitors
    point.transfer_bytes = snapshot.transfer_bytes


def _fall_back_to_snapshots(run, points, snapshots, provenance: Provenance) -> None:
    """Kollus failed and nothing is cached: provisional snapshots are the last good figures."""
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


@dataclass(slots=True)
class _RankingDays:
    """Where each day of a ranking's period comes from (see :func:`ranking`)."""

    today: date
    recorded: dict[date, DailyStatsSnapshot]
    local: list[date] = field(default_factory=list)
    remote: list[date] = field(default_factory=list)
    missing: list[date] = field(default_factory=list)

    def recorded_at(self, days) -> dict[date, datetime]:
        return {day: self.recorded[day].videos_recorded_at for day in days}

    def settled_key(self) -> str:
        return rollups.settled_key(self.local, self.recorded_at(self.local), self.today)

    def settled(self, days: list[date]) -> StatsRollup:
        return rollups.settled(days, self.recorded_at(days), self.today)


def _ranking_days(period: DateRange, today: date) -> _RankingDays:
    oldest_remote = oldest_day_kollus_answers(today)
    days = _RankingDays(today, _video_days(period))
    for day in period:
        snapshot = days.recorded.get(day)
        if snapshot is not None and (snapshot.videos_are_final or day < oldest_remote):
            days.local.append(day)
        elif oldest_remote <= day <= today:
            days.remote.append(day)
        elif day <= today:
            days.missing.append(day)
    return days


def ranking(
    period: DateRange,
    *,
    today: date | None = None,
    client_factory: ClientFactory = remote.make_client,
) -> Ranking:
    """Views and play time per video over ``period``, most viewed first.

    Final snapshots are read locally; the other days inside Kollus's year are asked from
    Kollus, one call per consecutive run. Both are stored as rollups (``stats.rollups``): the
    recorded days once per set of days, each Kollus answer once, their sum once per pair.
    """
    today = today or utc_today()
    days = _ranking_days(period, today)
    provenance = Provenance()
    provenance.add_missing(days.missing)
    if days.remote:
        provenance.remote_calls_needed = True
    stored = _stored_ranking(period, days)
    if stored is not None:
        return Ranking(period, stored, provenance)
    settled_days = list(days.local)
    remote_parts = []
    for run in contiguous_runs(days.remote):
        try:
            remote_parts.append(_remote_part(run, client_factory, provenance))
        except remote.StatisticsUnavailable as unavailable:
            provenance.note_failure(unavailable.error)
            fallback = [d for d in run if d in days.recorded]
            stored = _stored_answer(run, [days.recorded[d].videos_recorded_at for d in fallback])
            if stored is not None:
                remote_parts.append(stored)
                provenance.mark_stale(stored.built_at)
                continue
            settled_days.extend(fallback)
            for day in fallback:
                provenance.mark_stale(days.recorded[day].videos_recorded_at)
            provenance.add_unanswered([d for d in run if d not in days.recorded])
    parts = []
    if settled_days:
        settled_days.sort()
        parts.append(days.settled(settled_days))
    return Ranking(period, rollups.combined(period, parts + remote_parts), provenance)


def _stored_ranking(period: DateRange, days: _RankingDays):
    """The ranking stored already for these recorded days and the cached Kollus answers of
    the others, found by fingerprint alone (one query), or None. While Kollus's answers are
    cached, they are not even read from the cache (each holds a row per video)."""
    part_keys = []
    if days.local:
        part_keys.append(days.settled_key())
    for run in contiguous_runs(days.remote):
        fetched_at = remote.fresh_since("rank", run.start, run.end)
        if fetched_at is None:
            return None  # not asked yet, or expired, or Kollus failed: the long way
        part_keys.append(rollups.remote_key(run, fetched_at))
    if not part_keys:
        return None
    settled_only = len(part_keys) == 1 and bool(days.local)
    return rollups.find(rollups.combined_key(period, part_keys, settled_only=settled_only))


def _stored_answer(run: DateRange, recorded_at: list[datetime]) -> StatsRollup | None:
    """Kollus's last answer for ``run`` as stored in the database, when it is newer than what
    was recorded of the run's days: the last good figures survive a restart even when the
    cache (``LocMemCache``) does not."""
    stored = rollups.last_remote(run)
    if stored is None or any(at > stored.built_at for at in recorded_at):
        return None
    return stored


def _remote_part(run: DateRange, client_factory: ClientFactory, provenance: Provenance):
    """Kollus's ranking of ``run`` as a rollup part. While Kollus's answer is cached, the
    part it was copied into is found by the answer's time alone."""
    fetched_at = remote.fresh_since("rank", run.start, run.end)
    if fetched_at is not None:
        found = rollups.find(rollups.remote_key(run, fetched_at))
        if found is not None:
            return found
    fetched = fetch_rank(run, client_factory)
    if fetched.stale:
        provenance.mark_stale(fetched.fetched_at)
        provenance.note_failure(fetched.error)
    return rollups.remote(run, fetched.fetched_at, fetched.value)


def prepare_rankings(today: date | None = None) -> int:
    """Sum the recorded days of every preset period now, so that no editor waits for it
    (what the daily schedule runs after recording), and prune the rollups nobody reads any
    more. Returns how many sums were prepared.

    Also for tomorrow: from midnight UTC until the schedule runs again, each preset period has
    moved by a day (the same recorded days but its first), and those sums are ready too."""
    today = today or utc_today()
    prepared = 0
    for day in (today, today + timedelta(days=1)):
        for preset in PRESET_DAYS:
            days = _ranking_days(DateRange.last_days(preset, day), day)
            if days.local:
                days.settled(days.local)
                prepared += 1
    rollups.prune(today)
    return prepared


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
    rank: StatsRollupRow | None  # None: no views in the period (or none Kollus could tell)
    points: list[DailyViews]
    provenance: Provenance
    measured: bool = True  # False: no day of the period has figures (see Ranking.measured)

    @property
    def views(self) -> int | None:
        """None when not :attr:`measured`: unknown, not zero."""
        if not self.measured:
            return None
        return self.rank.views if self.rank else 0

    @property
    def play_time_seconds(self) -> int | None:
        if not self.measured:
            return None
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

    The total is the video's row of :func:`ranking` for the same period (the very rollup
    the report pages through), so the report and this view can never disagree. Kollus has
    no per-video daily endpoint, so the days come from the recorded snapshots; see
    :func:`video_daily_views` for the few recent days asked live.
    """
    today = today or utc_today()
    period_ranking = ranking(period, today=today, client_factory=client_factory)
    rank = period_ranking.row_for(upload_file_key)
    points, provenance = video_daily_views(
        upload_file_key, period, today=today, client_factory=client_factory
    )
    provenance.merge(period_ranking.provenance)
    return VideoSeries(
        period, upload_file_key, rank, points, provenance, measured=period_ranking.measured
    )


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
            except remote.StatisticsUnavailable as unavailable:
                failed = True
                provenance.note_failure(unavailable.error)
            else:
                if fetched.stale:
                    provenance.mark_stale(fetched.fetched_at)
                    provenance.note_failure(fetched.error)
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
