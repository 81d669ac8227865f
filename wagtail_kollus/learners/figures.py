"""The figures of the learner progress reports, as aggregate queries over ``LearnerProgress``.

A page's report groups the page's rows by learner in the database (one index range of
``wk_progress_page``); the shown page of learners is a ``LIMIT`` of that grouping and the
totals are one aggregate over it, so the cost follows the page's rows, never the whole table,
and the number of queries is the same for 10 or 10 000 learners.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils.functional import cached_property

from ..models import LearnerProgress
from ..progress.lessons import page_video_keys, pages_video_keys, video_titles
from ..stats.charts import Point

COMPLETED = "completed"
IN_PROGRESS = "in_progress"


@dataclass(frozen=True, slots=True)
class Filters:
    """What a report is narrowed to; every part is optional."""

    start: date | None = None
    end: date | None = None
    state: str = ""  # COMPLETED, IN_PROGRESS or "" (both)
    section_path: str = ""  # a page's tree path: that page and its descendants


def _day_start(day: date) -> datetime:
    """The start of ``day`` as a UTC day: the reports' days (the charts count per UTC day, the
    default period ends on the UTC today), not the site's time zone, or a filter of one day
    and that day's bar would count different learners."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def active_rows(rows: QuerySet, filters: Filters) -> QuerySet:
    """``rows`` watched during the filters' period (first watched before its end, last
    watched after its start) and inside its section."""
    if filters.start:
        rows = rows.filter(last_watched_at__gte=_day_start(filters.start))
    if filters.end:
        rows = rows.filter(first_watched_at__lt=_day_start(filters.end + timedelta(days=1)))
    if filters.section_path:
        rows = rows.filter(page__path__startswith=filters.section_path)
    return rows


# --- one page ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VideoFigures:
    media_content_key: str
    title: str
    learners: int
    completed: int
    average_percent: float


@dataclass(frozen=True, slots=True)
class PageFigures:
    learners: int
    started: int
    completed: int
    average_percent: float
    videos: Sequence[VideoFigures] = ()

    @property
    def completion_rate(self) -> float:
        return round(100 * self.completed / self.learners, 1) if self.learners else 0.0


class PageProgress:
    """The learners of one page, grouped in the database."""

    def __init__(self, page_id: int, filters: Filters = Filters()) -> None:
        self.page_id = page_id
        self.filters = filters

    @cached_property
    def video_keys(self) -> list[str]:
        """The videos the page shows now, as the learner's page completion counts them
        (``progress.lessons``); empty when it shows none (then every video watched counts)."""
        return page_video_keys(self.page_id)

    def page_rows(self) -> QuerySet:
        rows = LearnerProgress.objects.filter(page_id=self.page_id)
        if self.video_keys:  # a video since removed from the page no longer counts
            rows = rows.filter(media_content_key__in=self.video_keys)
        return rows

    def rows(self) -> QuerySet:
        return active_rows(self.page_rows(), self.filters)

    def per_learner(self, video_count: int, ordering: str = "-last_watched") -> QuerySet:
        """One dict per learner: videos started and completed, percent watched of the page
        (a video not started counts as 0 %), seconds watched, first and last watched."""
        grouped = (
            self.rows()
            .order_by()
            .values("learner_id")
            .annotate(
                videos=Count("pk"),
                videos_completed=Count("completed_at"),
                watched_seconds=Sum("watched_seconds"),
                percent_sum=Sum("percent"),
                first_watched=Min("first_watched_at"),
                last_watched=Max("last_watched_at"),
            )
        )
        if self.filters.state == COMPLETED:
            grouped = grouped.filter(videos_completed__gte=video_count)
        elif self.filters.state == IN_PROGRESS:
            grouped = grouped.filter(videos_completed__lt=video_count)
        return grouped.order_by(ordering, "learner_id")

    @cached_property
    def _whole_page(self) -> tuple[list[VideoFigures], dict[date, int]]:
        """Each video's figures over every learner, and the videos started per UTC day: one
        grouping of the page's rows by video and day, summed both ways here (a few hundred
        groups at most), instead of one pass over the page's rows for each."""
        grouped = list(
            self.page_rows()
            .order_by()
            .annotate(day=UTCDate("first_watched_at"))
            .values("media_content_key", "day")
            .annotate(
                learners=Count("pk"),  # one row per learner and video
                completed=Count("completed_at"),
                percent_total=Sum("percent"),
            )
        )
        by_video: dict[str, dict] = {}
        starts: dict[date, int] = {}
        for row in grouped:
            video = by_video.setdefault(
                row["media_content_key"],
                {"media_content_key": row["media_content_key"], "learners": 0, "completed": 0,
                 "percent_total": 0},
            )
            for name in ("learners", "completed", "percent_total"):
                video[name] += row[name] or 0
            day = _as_date(row["day"])
            starts[day] = starts.get(day, 0) + row["learners"]
        return _video_figures(list(by_video.values()), self.video_keys), starts

    def figures(self) -> PageFigures:
        whole_page, _starts = self._whole_page
        video_count = max(len(whole_page), 1)
        totals = self.per_learner(video_count).order_by().aggregate(
            learners=Count("learner_id"),
            started=Count("learner_id", filter=Q(watched_seconds__gt=0)),
            completed=Count("learner_id", filter=Q(videos_completed__gte=video_count)),
            percent_total=Sum("percent_sum"),
        )
        learners = totals["learners"] or 0
        average = average_percent(totals["percent_total"], learners, video_count)
        videos = whole_page
        if self.filters != Filters():  # the videos of the learners shown, whole
            shown = self.per_learner(video_count).values("learner_id")
            videos = _video_figures(
                _per_video(self.page_rows().filter(learner_id__in=shown)), self.video_keys
            )
        return PageFigures(
            learners=learners,
            started=totals["started"] or 0,
            completed=totals["completed"] or 0,
            average_percent=average,
            videos=videos,
        )

    def daily(self, period: Sequence[date]) -> tuple[list[Point], list[Point]]:
        """Videos started, and videos completed, on each UTC day of ``period`` (the statistics
        screens' days), over the whole page."""
        _videos, started = self._whole_page
        start = datetime.combine(period[0], time.min, tzinfo=UTC)
        end = datetime.combine(period[-1] + timedelta(days=1), time.min, tzinfo=UTC)
        completed = _count_by_day(
            self.page_rows().order_by().filter(completed_at__gte=start, completed_at__lt=end),
            "completed_at",
        )
        return (
            [Point(day, started.get(day, 0)) for day in period],
            [Point(day, completed.get(day, 0)) for day in period],
        )


def average_percent(percent_total: int | None, learners: int, video_count: int) -> float:
    """The mean percent of a page watched per learner: every video the page shows counts,
    one not started as 0 % (as the learner's own ``{% kollus_progress %}`` does)."""
    if not learners:
        return 0.0
    return round((percent_total or 0) / (learners * max(video_count, 1)), 1)


def pages_average_percent(rows: QuerySet, page_ids: Sequence[int]) -> dict[int, float]:
    """``average_percent`` of each of ``page_ids`` over ``rows`` (already filtered), as each
    page's own report computes it, in a fixed number of queries for any number of pages."""
    keys = pages_video_keys(page_ids)
    without_videos = [page_id for page_id in page_ids if page_id not in keys]
    shown = Q(page_id__in=without_videos)
    for page_id, page_keys in keys.items():  # a video since removed from a page no longer counts
        shown |= Q(page_id=page_id, media_content_key__in=page_keys)
    video_counts = {page_id: len(page_keys) for page_id, page_keys in keys.items()}
    if without_videos:  # then every video ever watched on the page counts, as in its report
        video_counts.update(
            LearnerProgress.objects.filter(page_id__in=without_videos)
            .order_by()
            .values("page_id")
            .annotate(videos=Count("media_content_key", distinct=True))
            .values_list("page_id", "videos")
        )
    grouped = (
        rows.filter(page_id__in=page_ids)
        .filter(shown)
        .order_by()
        .values("page_id")
        .annotate(learners=Count("learner_id", distinct=True), percent_total=Sum("percent"))
    )
    averages = dict.fromkeys(page_ids, 0.0)
    for row in grouped:
        averages[row["page_id"]] = average_percent(
            row["percent_total"], row["learners"], video_counts.get(row["page_id"], 1)
        )
    return averages


def _per_video(rows: QuerySet) -> list[dict]:
    return list(
        rows.order_by()
        .values("media_content_key")
        .annotate(
            learners=Count("learner_id"),
            completed=Count("completed_at"),
            percent_total=Sum("percent"),
        )
    )


def _video_figures(grouped: list[dict], keys: list[str]) -> list[VideoFigures]:
    """Each video's figures; the page's videos nobody watched yet included, at zero."""
    watched = {row["media_content_key"] for row in grouped}
    grouped = grouped + [
        {"media_content_key": key, "learners": 0, "completed": 0, "percent_total": 0}
        for key in keys
        if key not in watched
    ]
    titles = video_titles(row["media_content_key"] for row in grouped)
    return sorted(
        (
            VideoFigures(
                media_content_key=row["media_content_key"],
                title=titles.get(row["media_content_key"], row["media_content_key"]),
                learners=row["learners"],
                completed=row["completed"],
                average_percent=(
                    round(row["percent_total"] / row["learners"], 1) if row["learners"] else 0
                ),
            )
            for row in grouped
        ),
        key=lambda video: (video.title, video.media_content_key),
    )


def _as_date(day) -> date:
    # SQLite answers UTCDate as text; other databases as a date.
    return date.fromisoformat(day) if isinstance(day, str) else day


class UTCDate(TruncDate):
    """The UTC day of a datetime column.

    On SQLite, ``TruncDate`` calls a Python function for every row (Django registers
    ``django_datetime_cast_date``): on a page with 10 000 learners that alone took longer than
    the rest of the report. SQLite stores aware datetimes as UTC text, ``YYYY-MM-DD HH:MM…``,
    so the day is its first ten characters. Other databases truncate natively.
    """

    def __init__(self, expression, **extra):
        super().__init__(expression, tzinfo=UTC, **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.lhs)
        return f"substr({sql}, 1, 10)", params


def _count_by_day(rows: QuerySet, column: str) -> dict[date, int]:
    counted = (
        rows.annotate(day=UTCDate(column))
        .values("day")
        .annotate(count=Count("pk"))
        .values_list("day", "count")
    )
    return {_as_date(day): n for day, n in counted}


# --- one learner ---------------------------------------------------------------------------------


def learner_rows(learner_id: int, filters: Filters = Filters()) -> QuerySet:
    """The learner's progress rows (one per lesson page and video), most recent first."""
    rows = active_rows(LearnerProgress.objects.filter(learner_id=learner_id), filters)
    if filters.state == COMPLETED:
        rows = rows.filter(completed_at__isnull=False)
    elif filters.state == IN_PROGRESS:
        rows = rows.filter(completed_at__isnull=True)
    return rows.select_related("page").order_by("-last_watched_at", "pk")


# --- rows of the listings and exports ------------------------------------------------------------


@dataclass(slots=True)
class LearnerRow:
    """One learner of a page's report (a grouped dict, with the user joined)."""

    learner_id: int
    videos: int
    videos_completed: int
    video_count: int
    watched_seconds: int
    percent_sum: int
    first_watched: datetime
    last_watched: datetime
    user: Any = None

    @property
    def learner_name(self) -> str:
        if self.user is None:
            return str(self.learner_id)
        return self.user.get_full_name() or self.user.get_username()

    @property
    def percent(self) -> float:
        return round(self.percent_sum / self.video_count, 1)

    @property
    def completed(self) -> bool:
        return self.videos_completed >= self.video_count


def learner_rows_for(grouped: Iterable[dict], video_count: int) -> list[LearnerRow]:
    """``grouped`` dicts as rows, their users read in one query."""
    rows = [
        LearnerRow(
            learner_id=item["learner_id"],
            videos=item["videos"],
            videos_completed=item["videos_completed"],
            video_count=video_count,
            watched_seconds=item["watched_seconds"] or 0,
            percent_sum=item["percent_sum"] or 0,
            first_watched=item["first_watched"],
            last_watched=item["last_watched"],
        )
        for item in grouped
    ]
    users = get_user_model()._default_manager.in_bulk([row.learner_id for row in rows])
    for row in rows:
        row.user = users.get(row.learner_id)
    return rows


@dataclass(slots=True)
class ExportRow:
    """One progress row as the spreadsheets and the learner's data export write it."""

    progress: LearnerProgress
    video_title: str = ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.progress, name)

    @property
    def learner_name(self) -> str:
        user = self.progress.learner
        return user.get_full_name() or user.get_username()

    @property
    def learner_email(self) -> str:
        return getattr(self.progress.learner, "email", "") or ""

    @property
    def page_title(self) -> str:
        return self.progress.page.get_admin_display_title()

    @property
    def completed(self) -> bool:
        return self.progress.completed_at is not None


EXPORT_CHUNK = 2000


def export_rows(rows: QuerySet, *, titles: dict[str, str] | None = None) -> Iterator[ExportRow]:
    """``rows`` with their learner and page, streamed (``iterator``) so that an export of any
    size holds one chunk in memory; video titles are read a chunk at a time unless given."""
    streamed = rows.select_related("learner", "page").iterator(chunk_size=EXPORT_CHUNK)
    chunk: list[LearnerProgress] = []
    for progress in streamed:
        chunk.append(progress)
        if len(chunk) == EXPORT_CHUNK:
            yield from with_video_titles(chunk, titles)
            chunk = []
    yield from with_video_titles(chunk, titles)


def with_video_titles(
    chunk: Sequence[LearnerProgress], titles: dict[str, str] | None = None
) -> list[ExportRow]:
    """``chunk`` as rows with their videos' titles (read in one query unless given)."""
    known = titles if titles is not None else video_titles({p.media_content_key for p in chunk})
    return [ExportRow(p, known.get(p.media_content_key, "")) for p in chunk]
