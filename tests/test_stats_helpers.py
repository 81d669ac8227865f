"""Shared helpers of the statistics tests: the sandbox's own figures, computed locally."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from wagtail_kollus.models import DailyStatsSnapshot, DailyVideoViews
from wagtail_kollus.models.stats import day_is_settled_at
from wagtail_kollus.sandbox import statistics as sandbox_stats
from wagtail_kollus.stats.periods import DateRange, utc_today

FAST_LIMITS = {"KOLLUS_RATE_LIMIT_PER_SECOND": 1000, "KOLLUS_RATE_LIMIT_PER_MINUTE": 100000}


def completed_keys(sandbox) -> list[str]:
    with sandbox.state.lock:
        return sorted(k for k, m in sandbox.state.media.items() if m["stage"] == "completed")


def expected_views(sandbox, period: DateRange) -> dict[str, int]:
    out = {}
    for key in completed_keys(sandbox):
        views = sum(sandbox_stats.daily_views(key, day) for day in period)
        if views:
            out[key] = views
    return out


def expected_visitors(day: date) -> int:
    return int(sandbox_stats.daily_summary(day)["unique_visitors"])


def store_snapshot(day: date, *, visitors: int, views: dict[str, int], final: bool = True):
    """A snapshot as the schedule would have stored it (final: recorded after the lag)."""
    recorded = day_is_settled_at(day) + timedelta(hours=1) if final else datetime.now(UTC)
    DailyStatsSnapshot.objects.update_or_create(
        date=day,
        defaults={
            "unique_visitors": visitors,
            "transfer_bytes": visitors * 1000,
            "recorded_at": recorded,
            "videos_recorded_at": recorded,
        },
    )
    DailyVideoViews.objects.filter(date=day).delete()
    for key, count in views.items():
        DailyVideoViews.objects.create(date=day, upload_file_key=key, title=key, views=count)


def today() -> date:
    return utc_today()
