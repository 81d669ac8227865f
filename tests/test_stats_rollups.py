"""The statistics screens read stored rollups: a page of rows, whatever the number of videos.

Before rollups, every load (and every page and sort) of the report summed every video × day,
the dashboard summed the full 7- and 30-day rankings to show five rows, and sorting by title or
exporting joined every video with a query of ~2N parameters ("too many SQL variables" on
SQLite above ~16 000 videos).
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import store_snapshot
from tests.stats_support import (
    expected_views,
    stats_sandbox,  # noqa: F401  (the fixture ``kollus``)
    today,
)
from wagtail_kollus.models import (
    DailyStatsSnapshot,
    DailyVideoViews,
    KollusMedia,
    StatsRollup,
    StatsRollupRow,
)
from wagtail_kollus.models.stats import day_is_settled_at
from wagtail_kollus.stats import rollups, service, tasks
from wagtail_kollus.stats.periods import DateRange, oldest_day_kollus_answers

pytestmark = pytest.mark.django_db

REPORT = "wagtail_kollus_stats:report"
VIEWS_TABLE = DailyVideoViews._meta.db_table
ROWS_TABLE = StatsRollupRow._meta.db_table


def old_day(offset: int = 0):
    """A day before Kollus's year: read from snapshots only, never asked from Kollus."""
    return oldest_day_kollus_answers(today()) - timedelta(days=10 + offset)


def record_many(day, count: int, *, channels: bool = False) -> None:
    """``count`` videos viewed on ``day`` and mirrored in the library, in bulk."""
    recorded = day_is_settled_at(day) + timedelta(hours=1)
    DailyStatsSnapshot.objects.create(
        date=day, recorded_at=recorded, videos_recorded_at=recorded, unique_visitors=1
    )
    DailyVideoViews.objects.bulk_create(
        DailyVideoViews(
            date=day, upload_file_key=f"key-{n:05d}", title=f"Kollus {n:05d}", views=n % 97 + 1
        )
        for n in range(count)
    )
    KollusMedia.objects.bulk_create(
        KollusMedia(
            upload_file_key=f"key-{n:05d}",
            title=f"Video {n:05d}",
            media_content_key=f"mck-{n:05d}",
            channels=[{"channel_key": "c", "media_content_key": f"mck-{n:05d}"}]
            if channels
            else [],
        )
        for n in range(count)
    )


def custom(day) -> dict:
    return {"range": "custom", "start": str(day), "end": str(day)}


@pytest.fixture
def sqlite_default_limits():
    """SQLite's default cap on a statement's parameters (32 766 since 3.32; Debian builds
    raise it to 250 000, which hides the failure this guards against)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's parameter limit")
    connection.ensure_connection()
    raw = connection.connection
    previous = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)
    yield
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, previous)


def test_exporting_and_sorting_20000_videos_by_title_works_on_sqlite(
    kollus, admin_client, sqlite_default_limits
):
    day = old_day()
    record_many(day, 20_000)

    export = admin_client.get(reverse(REPORT), {**custom(day), "export": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    by_title = admin_client.get(reverse(REPORT), {**custom(day), "ordering": "title", "p": "3"})

    assert len(rows) == 20_000
    assert rows[0]["Rank"] == "1" and int(rows[0]["Views"]) == 97
    assert {row["Title"] for row in rows[:3]} <= {f"Video {n:05d}" for n in range(20_000)}
    assert by_title.status_code == 200
    titles = [row.display_title for row in by_title.context["object_list"]]
    assert titles == [f"Video {n:05d}" for n in range(100, 150)]
    assert kollus.request_count("kollus.*") == 0


def test_a_warm_report_reads_one_page_of_stored_totals(kollus, admin_client):
    days = [old_day(offset) for offset in range(3)]
    for day in days:
        store_snapshot(day, visitors=1, views={f"v{n}": n + 1 for n in range(120)})
    query = {"range": "custom", "start": str(min(days)), "end": str(max(days))}
    admin_client.get(reverse(REPORT), query)  # builds the rollup once

    for extra in ({}, {"ordering": "title", "p": "2"}, {"ordering": "-play_time", "p": "3"}):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(reverse(REPORT), {**query, **extra})
        assert response.status_code == 200
        sql = [q["sql"] for q in queries]
        # No sum over videos × days, no count over the rows, no OFFSET over the rows before
        # the page: the page's range of positions, by index.
        assert not [s for s in sql if VIEWS_TABLE in s], extra
        pages = [s for s in sql if ROWS_TABLE in s]
        assert len(pages) == 1 and re.search(r"BETWEEN (1|51|101) AND (50|100|120)\b", pages[0])
        assert "OFFSET" not in pages[0] and "COUNT" not in pages[0].upper(), pages
    # Page 3 by play time (none recorded: ties go by views): the 101st most viewed first.
    assert [r.views for r in response.context["object_list"]][:1] == [20 * 3]


def test_the_dashboard_reads_five_rows_of_each_ranking(kollus, admin_client):
    admin_client.get(reverse("wagtailadmin_home"))  # the rollups of 7 and 30 days

    with CaptureQueriesContext(connection) as queries:
        html = admin_client.get(reverse("wagtailadmin_home")).content.decode()

    pages = [q["sql"] for q in queries if ROWS_TABLE in q["sql"]]
    assert len(pages) == 2 and all("BETWEEN 1 AND 5" in sql for sql in pages), pages
    assert not [q for q in queries if VIEWS_TABLE in q["sql"]]
    assert html.count("kollus-stats-video__inner") == 10


def test_the_daily_schedule_prepares_the_presets_so_no_editor_sums_the_year(kollus, admin_client):
    now = today()
    for offset in range(3, 40):
        store_snapshot(now - timedelta(days=offset), visitors=1, views={"a": 1, "b": offset})

    tasks.record_daily_snapshot()

    settled = StatsRollup.objects.filter(kind="settled")
    # The task records the last days from Kollus too: the day before yesterday is final from
    # 12:00 UTC (Kollus lags 36 h), and from then on it is one more recorded day in each sum.
    newer = DailyStatsSnapshot.objects.get(date=now - timedelta(days=2)).videos_are_final
    # Today's 7, 30 and 90 days (365 days have the same recorded days as 90: the same
    # rollup), and tomorrow's, for the hours between midnight UTC and the next run.
    expected = [3, 4, 26, 27, 37, 37]
    assert sorted((r.end - r.start).days + 1 for r in settled) == [n + newer for n in expected]
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse(REPORT), {"range": "30"})
    assert response.status_code == 200
    # Kollus's answer for the unsettled days is copied in and added up: the recorded days are
    # not summed again.
    assert not [q for q in queries if VIEWS_TABLE in q["sql"] and "SUM" in q["sql"].upper()]


def test_recording_a_day_again_changes_the_report(kollus, admin_client):
    day = old_day()
    store_snapshot(day, visitors=1, views={"again": 5})
    first = admin_client.get(reverse(REPORT), custom(day)).context["object_list"]

    store_snapshot(day, visitors=1, views={"again": 8}, final=True)
    DailyStatsSnapshot.objects.filter(date=day).update(
        videos_recorded_at=day_is_settled_at(day) + timedelta(hours=5)
    )
    second = admin_client.get(reverse(REPORT), custom(day)).context["object_list"]

    assert [r.views for r in first] == [5] and [r.views for r in second] == [8]


def test_a_renamed_library_video_shows_at_once_and_sorts_anew_with_the_next_answer(
    kollus, admin_client
):
    views = {k: n + 1 for n, k in enumerate(sorted(expected_views(kollus, DateRange.last_days(7))))}
    first, second = list(views)[:2]
    KollusMedia.objects.create(upload_file_key=first, title="Aa alpha")
    KollusMedia.objects.create(upload_file_key=second, title="Aa beta")
    by_title = {"range": "7", "ordering": "title"}

    def titles():
        rows = admin_client.get(reverse(REPORT), by_title).context["object_list"]
        return [r.display_title for r in rows if r.upload_file_key in (first, second)]

    assert titles() == ["Aa alpha", "Aa beta"]
    media = KollusMedia.objects.get(upload_file_key=first)
    media.title = "Aa zulu"
    media.save()
    # Shown at once (titles are joined per page); sorted by the stored order until Kollus's
    # answer for the recent days is asked again (STATS_CACHE_TIMEOUT), which stores it anew.
    assert titles() == ["Aa zulu", "Aa beta"]
    cache.clear()
    assert titles() == ["Aa beta", "Aa zulu"]


def test_the_report_and_the_video_view_read_the_same_stored_row(kollus, admin_client):
    day = old_day()
    store_snapshot(day, visitors=1, views={"same": 11, "other": 3})
    report = admin_client.get(reverse(REPORT), custom(day)).context["view"].ranking
    video = (
        admin_client.get(reverse("wagtail_kollus_stats:video", args=["same"]), custom(day))
        .context["view"]
        .series
    )

    assert video.rank.pk == report.row_for("same").pk and video.views == 11
    assert report.total_views == 14 and report.count == 2


def test_rollups_nobody_reads_are_pruned(kollus):
    day = old_day()
    store_snapshot(day, visitors=1, views={"x": 1})
    ranking = service.ranking(DateRange(day, day))
    StatsRollup.objects.filter(pk=ranking.rollup.pk).update(used_on=today() - timedelta(days=2))

    assert rollups.prune() == 1
    assert not StatsRollup.objects.exists() and not StatsRollupRow.objects.exists()
    # Read again: built again.
    assert service.ranking(DateRange(day, day)).rows[0].views == 1
