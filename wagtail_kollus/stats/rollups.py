"""Rankings stored as rollups, so that showing one never re-adds every video × day.

The ranking of a period (views per video) is the sum of two kinds of parts:

* **settled** — the recorded days (``DailyVideoViews``) summed per video: one SQL aggregate
  over videos × days, done once per set of days and kept. The daily schedule builds those of
  the preset periods right after recording (``service.prepare_rankings``), so an editor
  seldom waits for one;
* **remote** — Kollus's answer for the recent days that are not settled yet, copied in once
  per answer (answers are cached ``STATS_CACHE_TIMEOUT`` seconds anyway).

One more SQL statement adds the parts up and ranks them (``combined``). A rollup is named by a
fingerprint of its inputs (the days and when each was recorded, or when Kollus answered), so
it is built once and then only read. Each row holds its position in every order the report
offers, so a page of any sort is a range of one index (:class:`RankedRows`): the report's pages
and sorts, the dashboard's top five and one video's total read the rows they show, whatever
the number of videos. Every statement's parameters are bounded by the number of days or parts,
never by videos.

Titles are sorted as they were when the rollup was stored: at most ``STATS_CACHE_TIMEOUT``
ago for a period that includes recent days (its Kollus part is copied in again then), at most
a day for a period entirely in the past (its fingerprint includes the day it was built for).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, QuerySet, Sum

from ..conf import kollus_settings
from ..models import DailyVideoViews, KollusMedia
from ..models.stats import RollupKind, StatsRollup, StatsRollupRow
from .periods import DateRange, utc_today

# Part of every fingerprint: bump it when the way rows are computed changes, and every stored
# rollup becomes unreachable (then pruned) instead of being read with the old meaning.
ROLLUP_FORMAT = 1
# Rows sent per statement when copying Kollus's answer in.
COPY_BATCH = 5000
DELETE_BATCH = 500
# A rollup replaced by a newer one of the same period and kind (a fresher Kollus answer) is
# deleted once it is this old; a request that looked it up just before still reads it whole.
SUPERSEDED_AFTER = timedelta(minutes=15)

# The report's sorts → (the dense position column, descending?).
ORDERINGS: dict[str, tuple[str, bool]] = {
    "-views": ("rank", False),
    "views": ("rank", True),
    "-play_time": ("play_rank", False),
    "play_time": ("play_rank", True),
    "title": ("title_rank", False),
    "-title": ("title_rank", True),
}
# Rows read per query when going through every row (exports).
ITERATE_CHUNK = 500


def fingerprint(kind: str, inputs: object) -> str:
    material = json.dumps([ROLLUP_FORMAT, kind, inputs], sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


def settled_key(days: Sequence[date], recorded_at: dict[date, datetime], today: date) -> str:
    # The day it is built for: a range in the past is stored again the next day it is read,
    # so its order by title follows renamed library videos by then.
    return fingerprint(RollupKind.SETTLED, [today, [(day, recorded_at[day]) for day in days]])


def remote_key(run: DateRange, fetched_at: datetime) -> str:
    return fingerprint(RollupKind.REMOTE, [run.start, run.end, fetched_at])


def combined_key(period: DateRange, part_keys: Sequence[str], *, settled_only: bool) -> str:
    """The fingerprint :func:`combined` gives these parts: knowing the parts' fingerprints
    is enough to find a stored ranking, without reading the parts."""
    if settled_only:
        return part_keys[0]
    return fingerprint(RollupKind.COMBINED, [period.start, period.end, list(part_keys)])


def find(key: str, today: date | None = None) -> StatsRollup | None:
    """The rollup with fingerprint ``key``, if built (and marked as used today)."""
    rollup = StatsRollup.objects.filter(fingerprint=key).first()
    if rollup is not None:
        _mark_used(rollup, today or utc_today())
    return rollup


def last_remote(run: DateRange) -> StatsRollup | None:
    """The newest stored copy of Kollus's ranking of ``run``, if any: the last good figures
    when Kollus fails and the cache no longer has them (a restarted process with
    ``LocMemCache``). Older copies are deleted as newer ones come (``_delete_superseded``)."""
    rollup = (
        StatsRollup.objects.filter(kind=RollupKind.REMOTE, start=run.start, end=run.end)
        .order_by("-built_at")
        .first()
    )
    if rollup is not None:
        _mark_used(rollup, utc_today())
    return rollup


def settled(
    days: Sequence[date], recorded_at: dict[date, datetime], today: date
) -> StatsRollup:
    """The recorded views of ``days`` (sorted), summed per video, for reports shown on
    ``today`` (UTC).

    ``recorded_at`` is when each day's views were recorded: recording a day again changes its
    stamp, hence the fingerprint, hence the rollup.
    """
    key = settled_key(days, recorded_at, today)

    def fill(rollup: StatsRollup) -> None:
        sums = (
            _recorded_days(days)
            .order_by()
            .values("upload_file_key")
            .annotate(
                part_title=Max("title"),
                part_views=Sum("views"),
                part_play=Sum("play_time_seconds"),
            )
        )
        sql, params = sums.query.get_compiler(connection=connection).as_sql()
        _insert_ranked(rollup, sql, params)

    return _get_or_build(key, RollupKind.SETTLED, days[0], days[-1], fill, today)


def remote(run: DateRange, fetched_at: datetime, ranks: Iterable[tuple]) -> StatsRollup:
    """Kollus's ranking of ``run`` as answered at ``fetched_at`` (rows ``(key, title, views,
    play time)``). A part only: it is not ranked until :func:`combined` adds it up."""
    key = remote_key(run, fetched_at)

    def fill(rollup: StatsRollup) -> None:
        _copy_rows(rollup, _merged(ranks))

    return _get_or_build(key, RollupKind.REMOTE, run.start, run.end, fill)


def combined(period: DateRange, parts: Sequence[StatsRollup]) -> StatsRollup | None:
    """The parts added up per video and ranked; None without parts. A single settled part is
    already ranked and is returned as it is. The first part's titles win (recorded before
    remote, as Kollus's newest title may be empty for a deleted video)."""
    if not parts:
        return None
    if len(parts) == 1 and parts[0].kind == RollupKind.SETTLED:
        return parts[0]
    key = combined_key(period, [p.fingerprint for p in parts], settled_only=False)
    ids = [part.pk for part in parts]

    def fill(rollup: StatsRollup) -> None:
        table = _quote(StatsRollupRow._meta.db_table)
        # Only quoted table names from the models go into the text; values are parameters.
        sql = (
            "SELECT r.upload_file_key AS upload_file_key,"  # noqa: S608
            " COALESCE(MAX(CASE WHEN r.rollup_id = %s THEN NULLIF(r.title, '') END),"
            " MAX(r.title)) AS part_title,"
            " SUM(r.views) AS part_views, SUM(r.play_time_seconds) AS part_play"
            f" FROM {table} r WHERE r.rollup_id IN ({', '.join(['%s'] * len(ids))})"
            " GROUP BY r.upload_file_key"
        )
        _insert_ranked(rollup, sql, [ids[0], *ids])

    return _get_or_build(key, RollupKind.COMBINED, period.start, period.end, fill)


class RankedRows:
    """The rows of a rollup in one of the report's orders (``ORDERINGS``), as a sequence that
    Django's paginator slices: ``rows[50:100]`` reads the rows at positions 51–100 by a range
    of the order's position column, never an ``OFFSET`` over the rows before them."""

    model = StatsRollupRow
    ordered = True  # for Paginator's check

    def __init__(self, rollup: StatsRollup | None, ordering: str = "-views") -> None:
        self.rollup = rollup
        self.column, self.descending = ORDERINGS[ordering]

    def __len__(self) -> int:
        return self.rollup.row_count if self.rollup else 0

    def count(self) -> int:
        return len(self)

    def __getitem__(self, index):
        if isinstance(index, int):
            rows = self[index : index + 1]
            if not rows:
                raise IndexError(index)
            return rows[0]
        start, stop, step = index.indices(len(self))
        if step != 1:
            raise ValueError("RankedRows slices take no step")
        if self.rollup is None or stop <= start:
            return []
        # Positions start + 1 … stop, counted from the end of the column when descending.
        if self.descending:
            low, high = len(self) - stop + 1, len(self) - start
        else:
            low, high = start + 1, stop
        rows = StatsRollupRow.objects.filter(
            rollup=self.rollup, **{f"{self.column}__range": (low, high)}
        ).order_by(f"-{self.column}" if self.descending else self.column)
        return list(rows)

    def __iter__(self) -> Iterator[StatsRollupRow]:
        return self.iterator()

    def iterator(self, chunk_size: int = ITERATE_CHUNK) -> Iterator[StatsRollupRow]:
        """Every row in order, ``chunk_size`` rows per query (constant memory)."""
        for start in range(0, len(self), chunk_size):
            yield from self[start : start + chunk_size]

    def get(self, upload_file_key: str) -> StatsRollupRow | None:
        if self.rollup is None:
            return None
        return StatsRollupRow.objects.filter(
            rollup=self.rollup, upload_file_key=upload_file_key
        ).first()


def prune(today: date | None = None) -> int:
    """Delete the rollups nobody read since yesterday; return how many."""
    today = today or utc_today()
    return _delete(StatsRollup.objects.filter(used_on__lt=today - timedelta(days=1)))


# --- building ---------------------------------------------------------------------------------


def _get_or_build(
    key: str, kind: str, start: date, end: date, fill, today: date | None = None
) -> StatsRollup:
    # The day the rollup is built for, when the caller knows it: a settled rollup prepared
    # for tomorrow (``prepare_rankings``), or for a ``today`` passed explicitly, is marked
    # used on that day, and the prune of that day keeps it.
    today = today or utc_today()
    found = find(key, today)
    if found is not None:
        return found
    if kind != RollupKind.SETTLED:
        _delete_superseded(kind, start, end)
    try:
        with transaction.atomic():
            rollup = StatsRollup.objects.create(
                fingerprint=key,
                kind=kind,
                start=start,
                end=end,
                built_at=datetime.now(UTC),
                used_on=today,
            )
            fill(rollup)
            totals = StatsRollupRow.objects.filter(rollup=rollup).aggregate(
                count=Count("pk"), views=Sum("views")
            )
            rollup.row_count = totals["count"]
            rollup.total_views = totals["views"] or 0
            rollup.save(update_fields=["row_count", "total_views"])
    except IntegrityError:
        # Another request built the same rollup meanwhile (the fingerprint is unique): theirs
        # is the same rows.
        return StatsRollup.objects.get(fingerprint=key)
    return rollup


def _insert_ranked(rollup: StatsRollup, source_sql: str, source_params: Sequence) -> None:
    """Store the rows of ``source_sql`` (columns ``upload_file_key, part_title, part_views,
    part_play``, one row per video) in ``rollup`` with their position in every order, in one
    ``INSERT … SELECT``: the rows never travel through Python."""
    rows = _quote(StatsRollupRow._meta.db_table)
    media = _quote(KollusMedia._meta.db_table)
    # The ties of every order end as the default order's do, so positions are total orders.
    by_views = "s.part_views DESC, s.part_play DESC, s.part_title, s.upload_file_key"
    by_play = "s.part_play DESC, s.part_views DESC, s.part_title, s.upload_file_key"
    # Display title as the screens show it: the library's, else Kollus's, else the key.
    display_title = (
        "LOWER(COALESCE(NULLIF(m.title, ''), NULLIF(s.part_title, ''), s.upload_file_key))"
    )
    # Only quoted names from the models and the ORM's own SQL go into the text.
    sql = (
        f"INSERT INTO {rows} (rollup_id, upload_file_key, title, views, play_time_seconds,"  # noqa: S608
        " rank, play_rank, title_rank)"
        " SELECT %s, s.upload_file_key, COALESCE(s.part_title, ''), s.part_views, s.part_play,"
        f" ROW_NUMBER() OVER (ORDER BY {by_views}),"
        f" ROW_NUMBER() OVER (ORDER BY {by_play}),"
        f" ROW_NUMBER() OVER (ORDER BY {display_title}, {by_views})"
        f" FROM ({source_sql}) s LEFT JOIN {media} m ON m.upload_file_key = s.upload_file_key"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [rollup.pk, *source_params])


def _copy_rows(rollup: StatsRollup, rows: list[tuple[str, tuple[str, int, int]]]) -> None:
    """Insert ``(key, (title, views, play time))`` rows into ``rollup``, unranked.

    On a page load, so written for speed: a row per video through the ORM's ``bulk_create``
    costs several times more. PostgreSQL takes the columns as four arrays in one statement;
    other databases one prepared ``INSERT`` run over the rows."""
    table = _quote(StatsRollupRow._meta.db_table)
    columns = (
        "rollup_id, upload_file_key, title, views, play_time_seconds, rank, play_rank, title_rank"
    )
    with connection.cursor() as cursor:
        for batch in _batches(rows, COPY_BATCH):
            if connection.vendor == "postgresql":
                # Only quoted names from the models go into the text; rows are parameters.
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) SELECT %s, k, t, v, p, 0, 0, 0"  # noqa: S608
                    " FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::bigint[])"
                    " AS u(k, t, v, p)",
                    [
                        rollup.pk,
                        [key for key, _ in batch],
                        [title for _, (title, _v, _p) in batch],
                        [views for _, (_t, views, _p) in batch],
                        [play for _, (_t, _v, play) in batch],
                    ],
                )
            else:
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, 0, 0, 0)",  # noqa: S608
                    [(rollup.pk, key, title, views, play) for key, (title, views, play) in batch],
                )


def _recorded_days(days: Sequence[date]) -> QuerySet[DailyVideoViews]:
    """``days``' rows with a lookup that stays small: a date range minus its few gaps (the
    number of query parameters is capped by databases; SQLite's old limit is 999)."""
    first, last = days[0], days[-1]
    gaps = sorted(set(DateRange(first, last)) - set(days))
    if len(gaps) >= len(days):
        return DailyVideoViews.objects.filter(date__in=days)
    rows = DailyVideoViews.objects.filter(date__range=(first, last))
    return rows.exclude(date__in=gaps) if gaps else rows


def _merged(ranks: Iterable[tuple]) -> list[tuple[str, tuple[str, int, int]]]:
    """Kollus's rows cut to the columns, one per upload file key (summed if repeated)."""
    merged: dict[str, list] = {}
    key_length = StatsRollupRow._meta.get_field("upload_file_key").max_length
    for upload_file_key, title, views, play in ranks:
        entry = merged.setdefault(upload_file_key[:key_length], ["", 0, 0])
        entry[0] = entry[0] or (title or "")[:255]
        entry[1] += views
        entry[2] += play
    return [(key, tuple(values)) for key, values in merged.items()]


def _batches(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _mark_used(rollup: StatsRollup, today: date) -> None:
    if rollup.used_on != today:
        StatsRollup.objects.filter(pk=rollup.pk).update(used_on=today)
        rollup.used_on = today


def _delete_superseded(kind: str, start: date, end: date) -> None:
    """A new Kollus answer makes a new remote part and a new combined rollup of the same
    period every few minutes: the old ones are dropped now rather than at the daily prune."""
    keep_for = max(
        SUPERSEDED_AFTER, 2 * timedelta(seconds=int(kollus_settings.STATS_CACHE_TIMEOUT))
    )
    _delete(
        StatsRollup.objects.filter(
            kind=kind, start=start, end=end, built_at__lt=datetime.now(UTC) - keep_for
        )
    )


def _delete(rollups: QuerySet[StatsRollup]) -> int:
    deleted = 0
    while ids := list(rollups.values_list("pk", flat=True)[:DELETE_BATCH]):
        # Raw deletes: the ORM's would load every row first to send delete signals (which
        # other apps listen to for every model), thousands of rows per rollup.
        rows = StatsRollupRow.objects.filter(rollup_id__in=ids)
        rows._raw_delete(rows.db)
        headers = StatsRollup.objects.filter(pk__in=ids)
        deleted += headers._raw_delete(headers.db)
    return deleted


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)
