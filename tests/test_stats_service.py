"""The statistics service against the sandbox over HTTP: splitting, snapshot merging,
caching, the stale fallback, and recording snapshots."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from tests.factories import store_snapshot
from tests.stats_support import (
    completed_keys,
    expected_views,
    expected_visitors,
    stats_sandbox,  # noqa: F401  (the fixture ``kollus``)
    today,
)
from wagtail_kollus.models import DailyStatsSnapshot, DailyVideoViews
from wagtail_kollus.sandbox import statistics as sandbox_stats
from wagtail_kollus.stats import service, snapshots, tasks
from wagtail_kollus.stats.periods import DateRange, oldest_day_kollus_answers

pytestmark = pytest.mark.django_db

SUMMARY = "kollus.stats_summary_daily"
RANK = "kollus.stats_content_rank"


def test_a_year_without_snapshots_is_split_into_92_day_calls(kollus):
    now = today()
    period = DateRange.last_days(365, now)

    # The day the period was computed for, not a second reading of the clock: from midnight
    # UTC on, the period's first day is outside Kollus's year.
    series = service.account_series(period, today=now)
    ranking = service.ranking(period, today=now)

    # 365 days in Kollus's window: today-364 .. today, 4 calls of at most 92 days each.
    assert kollus.request_count(SUMMARY) == 4
    assert kollus.request_count(RANK) == 4
    assert [p.unique_visitors for p in series.points] == [expected_visitors(d) for d in period]
    assert {r.upload_file_key: r.views for r in ranking.rows} == expected_views(kollus, period)
    assert not series.provenance.is_stale and not series.provenance.missing


def test_old_days_come_from_snapshots_and_recent_days_from_kollus(kollus):
    now = today()
    oldest = oldest_day_kollus_answers(now)
    key = completed_keys(kollus)[0]
    # History beyond Kollus's window (recorded back then), and final snapshots inside it.
    old_days = DateRange(oldest - timedelta(days=20), oldest - timedelta(days=1))
    settled = DateRange(oldest, now - timedelta(days=3))
    for day in old_days:
        store_snapshot(day, visitors=7, views={key: 2})
    for day in settled:
        store_snapshot(
            day,
            visitors=expected_visitors(day),
            views={k: sandbox_stats.daily_views(k, day) for k in completed_keys(kollus)},
        )
    period = DateRange(old_days.start, now)

    series = service.account_series(period, today=now)
    ranking = service.ranking(period, today=now)

    # Only the unsettled tail (the last three days) is asked for: one call per endpoint.
    assert kollus.request_count(SUMMARY) == 1
    assert kollus.request_count(RANK) == 1
    visitors = {p.date: p.unique_visitors for p in series.points}
    assert all(visitors[d] == 7 for d in old_days)
    assert all(visitors[d] == expected_visitors(d) for d in DateRange(oldest, now))
    views = {r.upload_file_key: r.views for r in ranking.rows}
    recent = DateRange(oldest, now)
    assert views[key] == 2 * old_days.days + expected_views(kollus, recent).get(key, 0)
    assert series.provenance.missing == []


def test_days_before_the_window_without_snapshots_are_reported_missing(kollus):
    now = today()
    oldest = oldest_day_kollus_answers(now)
    period = DateRange(oldest - timedelta(days=5), oldest + timedelta(days=2))

    series = service.account_series(period, today=now)

    assert series.provenance.missing == [
        DateRange(oldest - timedelta(days=5), oldest - timedelta(days=1))
    ]
    assert all(p.unique_visitors is None for p in series.points[:5])
    # The window part was still fetched (and never a 422 for the old part).
    assert series.points[5].unique_visitors == expected_visitors(oldest)


def test_a_second_load_makes_no_remote_call(kollus):
    period = DateRange.last_days(30)
    service.account_series(period)
    service.ranking(period)
    calls = kollus.request_count("kollus.*")
    assert calls == 2

    service.account_series(period)
    service.ranking(period)

    assert kollus.request_count("kollus.*") == calls


def test_kollus_down_serves_the_last_good_figures_as_stale(kollus, settings):
    period = DateRange.last_days(7)
    first = service.ranking(period)
    # The 5-minute copy expires; Kollus then fails.
    cache.delete(f"wagtail_kollus:stats:v1:rank:{period.start:%Y%m%d}:{period.end:%Y%m%d}")
    kollus.faults.set(RANK, status=503)

    second = service.ranking(period)

    assert [r.views for r in second.rows] == [r.views for r in first.rows]
    assert second.provenance.is_stale
    # The outage pause: a further load does not knock again.
    before = kollus.request_count(RANK)
    service.ranking(DateRange.last_days(8))
    assert kollus.request_count(RANK) == before


def test_kollus_down_with_nothing_cached_falls_back_to_provisional_snapshots(kollus):
    now = today()
    store_snapshot(now - timedelta(days=1), visitors=42, views={}, final=False)
    kollus.faults.set(SUMMARY, status=500)
    period = DateRange(now - timedelta(days=2), now - timedelta(days=1))

    series = service.account_series(period, today=now)

    assert series.points[1].unique_visitors == 42
    assert series.provenance.is_stale
    # Kollus did not answer for the other day: said so, not "missing" (that is for days
    # Kollus can no longer give).
    assert series.provenance.unanswered == [DateRange(period.start, period.start)]
    assert series.provenance.missing == []


def test_recording_a_day_again_replaces_it(kollus):
    day = today() - timedelta(days=2)
    snapshots.record_days(DateRange(day, day))
    DailyVideoViews.objects.create(date=day, upload_file_key="gone", views=99)
    DailyStatsSnapshot.objects.filter(date=day).update(unique_visitors=1)

    snapshots.record_days(DateRange(day, day))

    snapshot = DailyStatsSnapshot.objects.get(date=day)
    assert snapshot.unique_visitors == expected_visitors(day)
    assert snapshot.videos_recorded_at is not None
    rows = dict(DailyVideoViews.objects.filter(date=day).values_list("upload_file_key", "views"))
    assert "gone" not in rows
    assert rows == expected_views(kollus, DateRange(day, day))


def test_backfill_records_the_window_and_skips_older_days(kollus):
    now = today()
    oldest = oldest_day_kollus_answers(now)
    start, end = oldest - timedelta(days=2), oldest + timedelta(days=3)

    call_command("kollus_stats", "--backfill", str(start), str(end))

    recorded = set(DailyStatsSnapshot.objects.values_list("date", flat=True))
    assert recorded == set(DateRange(oldest, end))
    # One summary call for the range, one ranking call per day.
    assert kollus.request_count(SUMMARY) == 1
    assert kollus.request_count(RANK) == 4


def test_backfill_rejects_a_reversed_range(kollus):
    with pytest.raises(CommandError):
        call_command("kollus_stats", "--backfill", "2026-02-02", "2026-02-01")


def test_an_interrupted_backfill_says_how_to_go_on_and_resumes_after_the_final_days(
    kollus, settings
):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "MAX_RETRIES": 0}
    oldest = oldest_day_kollus_answers(today())
    call_command("kollus_stats", "--backfill", str(oldest), str(oldest + timedelta(days=4)))
    kollus.faults.set(RANK, status=500)
    with pytest.raises(CommandError, match="run the same command with --resume to go on"):
        call_command("kollus_stats", "--backfill", str(oldest), str(oldest + timedelta(days=9)))
    kollus.faults.clear()
    kollus._app.requests.clear()

    call_command(
        "kollus_stats", "--backfill", str(oldest), str(oldest + timedelta(days=9)), "--resume"
    )

    # The five days recorded final are kept; only the other five are asked for.
    assert kollus.request_count(RANK) == 5
    recorded = set(DailyStatsSnapshot.objects.values_list("date", flat=True))
    assert recorded == set(DateRange(oldest, oldest + timedelta(days=9)))


def test_recent_days_record_the_lagging_tail(kollus, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "STATS_RECORD_DAYS": 3}
    now = today()
    result = snapshots.record_recent_days(now)
    assert result.recorded_days == [now - timedelta(days=n) for n in (3, 2, 1)]


def test_the_schedule_is_installed_once(kollus):
    from django_q.models import Schedule

    first, created = tasks.ensure_schedule()
    again, created_again = tasks.ensure_schedule()

    assert created and not created_again
    assert first.pk == again.pk
    assert Schedule.objects.filter(name=tasks.SCHEDULE_NAME).count() == 1
    assert again.func == "wagtail_kollus.stats.tasks.record_daily_snapshot"
    assert again.schedule_type == Schedule.DAILY


def test_the_command_installs_the_schedule_and_needs_an_action(kollus):
    from django_q.models import Schedule

    call_command("kollus_stats", "--install-schedule")
    call_command("kollus_stats", "--install-schedule")

    assert Schedule.objects.filter(name=tasks.SCHEDULE_NAME).count() == 1
    with pytest.raises(CommandError):
        call_command("kollus_stats")


def test_the_backfill_reports_in_the_sites_language(kollus):
    """A Korean site (LANGUAGE_CODE "ko", as the demo) reads the command's summary in Korean,
    the days outside Kollus's window included."""
    oldest = oldest_day_kollus_answers(today())
    out = StringIO()
    with translation.override("ko"):
        call_command(
            "kollus_stats", "--backfill", str(oldest - timedelta(days=1)), str(oldest), stdout=out
        )
        with pytest.raises(CommandError, match="TO가 FROM보다 앞선 날짜입니다"):
            call_command("kollus_stats", "--backfill", "2026-02-02", "2026-02-01")

    printed = out.getvalue()
    assert "과거 기록: 1일 기록함; Kollus가 제공하는 최근 1년 범위 밖의 1일은 건너뜀" in printed, printed
    assert "recorded" not in printed and "day(s)" not in printed


def test_an_outage_is_logged_without_the_access_token(kollus, caplog):
    kollus.faults.set(SUMMARY, status=503)

    with caplog.at_level("WARNING", logger="wagtail_kollus"):
        service.account_series(DateRange.last_days(3))

    assert "Kollus statistics unavailable" in caplog.text
    assert kollus.keys.access_token not in caplog.text
