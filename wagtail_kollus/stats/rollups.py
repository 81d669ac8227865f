"""Rankings stored as rollups, so that showing one never re-adds every video × day.

The ranking of a period (views per video) is the sum of two kinds of parts:

* **settled** — the recorded days (``DailyVideoViews``) summed per video: one SQL aggregate
  over videos × days, done once per set of days and kept. The daily schedule builds those of
  the preset periods right after recording (``prepare``), so an editor seldom waits for one;
* **remote** — Kollus's answer for the recent days that are not settled yet, copied in once
  per answer (answers are cached ``STATS_CACHE_TIMEOUT`` seconds anyway).

One more SQL statement adds the parts up and ranks them (``combined``). A rollup is named by a
fingerprint of its inputs (the days and when each was recorded, or when Kollus answered), so
it is built once and then only read: the report's pages and sorts, the dashboard's top five
and one video's total are index range scans of ``StatsRollupRow``, whatever the video count.
Every statement's parameters are bounded by the number of days or parts, never by videos.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Lower, NullIf, Substr

from ..conf import kollus_settings
from ..models import DailyVideoViews, KollusMedia
from ..models.stats import RollupKind, StatsRollup, StatsRollupRow
from .periods import DateRange, utc_today

# Part of every fingerprint: bump it when the way rows are computed changes, and every stored
# rollup becomes unreachable (then pruned) instead of being read with the old meaning.
ROLLUP_FORMAT = 1
# Rows written per INSERT when copying Kollus's answer in (a few parameters per row).
COPY_BATCH = 500
DELETE_BATCH = 500
# A rollup replaced by a newer one of the same period and kind (a fresher Kollus answer) is
# deleted once it is this old; a request that looked it up just before still reads it whole.
SUPERSEDED_AFTER = timedelta(minutes=15)

# The report's sorts → the rollup rows' order. Each is served by an index of StatsRollupRow
# (read forwards or backwards); ``rank`` breaks ties, so a page never repeats or skips a row.
ORDERINGS: dict[str, tuple[str, ...]] = {
    "-views": ("rank",),
    "views": ("-rank",),
    "-play_time": ("-play_time_seconds", "-views", "rank"),
    "play_time": ("play_time_seconds", "views", "-rank"),
    "title": ("sort_title", "rank"),
    "-title": ("-sort_title", "-rank"),
}


def fingerprint(kind: str, inputs: object) -> str:
    material = json.dumps([ROLLUP_FORMAT, kind, inputs], sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


def find(key: str, today: date | None = None) -> StatsRollup | None:
    """The rollup with fingerprint ``key``, if built (and marked as used today)."""
    rollup = StatsRollup.objects.filter(fingerprint=key).first()
    if rollup is not None:
        _mark_used(rollup, today or utc_today())
    return rollup


def settled(days: Sequence[date], recorded_at: dict[date, datetime]) -> StatsRollup:
    """The recorded views of ``days`` (sorted), summed per video.

    ``recorded_at`` is when each day's views were recorded: recording a day again changes its
    stamp, hence the fingerprint, hence the rollup.
    """
    key = fingerprint(RollupKind.SETTLED, [(day, recorded_at[day]) for day in days])

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

    return _get_or_build(key, RollupKind.SETTLED, days[0], days[-1], fill)


def remote(run: DateRange, fetched_at: datetime, ranks: Iterable[tuple]) -> StatsRollup:
    """Kollus's ranking of ``run`` as answered at ``fetched_at`` (rows ``(key, title, views,
    play time)``). A part only: it is not ranked until :func:`combined` adds it up."""
    key = fingerprint(RollupKind.REMOTE, [run.start, run.end, fetched_at])

    def fill(rollup: StatsRollup) -> None:
        for batch in _batches(_merged(ranks), COPY_BATCH):
            StatsRollupRow.objects.bulk_create(
                StatsRollupRow(
                    rollup=rollup,
                    upload_file_key=upload_file_key,
                    title=title,
                    views=views,
                    play_time_seconds=play,
                )
                for upload_file_key, (title, views, play) in batch
            )

    return _get_or_build(key, RollupKind.REMOTE, run.start, run.end, fill)


def combined(period: DateRange, parts: Sequence[StatsRollup]) -> StatsRollup | None:
    """The parts added up per video and ranked; None without parts. A single settled part is
    already ranked and is returned as it is. The first part's titles win (recorded before
    remote, as Kollus's newest title may be empty for a deleted video)."""
    if not parts:
        return None
    if len(parts) == 1 and parts[0].kind == RollupKind.SETTLED:
        return parts[0]
    key = fingerprint(RollupKind.COMBINED, [period.start, period.end, [p.fingerprint for p in parts]])
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


def ordered_rows(rollup: StatsRollup | None, ordering: str = "-views") -> QuerySet[StatsRollupRow]:
    """The rows of ``rollup`` in one of the report's orders (see ``ORDERINGS``)."""
    if rollup is None:
        return StatsRollupRow.objects.none()
    return StatsRollupRow.objects.filter(rollup=rollup).order_by(*ORDERINGS[ordering])


def retitle(upload_file_key: str, library_title: str) -> None:
    """A library video was renamed (or deleted: ``library_title`` empty): its title's sort
    key changes in every rollup (one row per rollup), so sorting by title stays right."""
    # The same expression as _insert_ranked's, so both agree on every database.
    StatsRollupRow.objects.filter(upload_file_key=upload_file_key).update(
        sort_title=Substr(
            Lower(
                Coalesce(
                    NullIf(Value(library_title), Value("")),
                    NullIf(F("title"), Value("")),
                    F("upload_file_key"),
                )
            ),
            1,
            255,
        )
    )


def prune(today: date | None = None) -> int:
    """Delete the rollups nobody read since yesterday; return how many."""
    today = today or utc_today()
    return _delete(StatsRollup.objects.filter(used_on__lt=today - timedelta(days=1)))


# --- building ---------------------------------------------------------------------------------


def _get_or_build(key: str, kind: str, start: date, end: date, fill) -> StatsRollup:
    today = utc_today()
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
    part_play``, one row per video) in ``rollup``, with their rank and title sort key, in one
    ``INSERT … SELECT``: the rows never travel through Python."""
    rows = _quote(StatsRollupRow._meta.db_table)
    media = _quote(KollusMedia._meta.db_table)
    # Only quoted names from the models and the ORM's own SQL go into the text.
    sql = (
        f"INSERT INTO {rows} (rollup_id, upload_file_key, title, views, play_time_seconds,"  # noqa: S608
        " rank, sort_title)"
        " SELECT %s, s.upload_file_key, COALESCE(s.part_title, ''), s.part_views, s.part_play,"
        " ROW_NUMBER() OVER (ORDER BY s.part_views DESC, s.part_play DESC,"
        " s.part_title, s.upload_file_key),"
        " SUBSTR(LOWER(COALESCE(NULLIF(m.title, ''), NULLIF(s.part_title, ''),"
        " s.upload_file_key)), 1, 255)"
        f" FROM ({source_sql}) s LEFT JOIN {media} m ON m.upload_file_key = s.upload_file_key"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [rollup.pk, *source_params])


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
    keep_for = max(SUPERSEDED_AFTER, 2 * timedelta(seconds=int(kollus_settings.STATS_CACHE_TIMEOUT)))
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
