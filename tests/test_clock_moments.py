"""The rules that depend on the day or the hour, run at fixed moments passed explicitly.

CI runs at any hour: a test that reads the clock and expects what the code computes from a
second reading (or from another hour) passes at some hours and fails at others. These run the
time-sensitive rules at the moments where they turn: noon UTC (the day before yesterday
becomes final, 36 h after its end), midnight, the first of a month after February, New Year,
a leap day, and the daily schedule's time. Each expectation is worked out here from the
calendar, not from the function under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from tests.factories import store_snapshot
from wagtail_kollus.conf import kollus_settings
from wagtail_kollus.models import StatsRollup
from wagtail_kollus.models.stats import day_is_settled_at
from wagtail_kollus.stats import service, tasks
from wagtail_kollus.stats.forms import StatisticsRangeForm
from wagtail_kollus.stats.periods import (
    KOLLUS_WINDOW_DAYS,
    PRESET_DAYS,
    DateRange,
    oldest_day_kollus_answers,
    utc_today,
)

MOMENTS = [
    datetime(2026, 12, 7, 11, 59, 59, tzinfo=UTC),
    datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2027, 1, 1, 0, 0, 0, tzinfo=UTC),
    datetime(2027, 3, 1, 0, 0, 30, tzinfo=UTC),
    datetime(2028, 2, 29, 12, 0, 0, tzinfo=UTC),
    datetime(2028, 3, 1, 0, 1, 0, tzinfo=UTC),
    datetime(2027, 6, 15, 2, 29, 59, tzinfo=UTC),
    datetime(2027, 6, 15, 2, 30, 0, tzinfo=UTC),
]
SEOUL = timezone(timedelta(hours=9))
NEW_YORK_WINTER = timezone(timedelta(hours=-5))


def moment_ids(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def calendar_days(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, counted on the proleptic calendar's ordinals."""
    return [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_ids)
def test_today_is_the_utc_day_whatever_zone_the_moment_is_given_in(moment):
    expected = date(moment.year, moment.month, moment.day)  # the moments are in UTC
    assert utc_today(moment) == expected
    assert utc_today(moment.astimezone(SEOUL)) == expected
    assert utc_today(moment.astimezone(NEW_YORK_WINTER)) == expected


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_ids)
def test_the_presets_are_the_last_days_up_to_today_across_months_years_and_leap_days(moment):
    today = utc_today(moment)
    for days in PRESET_DAYS:
        period = DateRange.last_days(days, today)
        assert list(period) == calendar_days(
            date.fromordinal(today.toordinal() - days + 1), today
        )
        assert period.days == days
    # The year preset lies inside the days Kollus answers for: never a 422 for its first day.
    year = DateRange.last_days(KOLLUS_WINDOW_DAYS, today)
    assert oldest_day_kollus_answers(today) == year.start


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_ids)
def test_a_day_is_final_36_hours_after_it_ends(moment):
    today = utc_today(moment)
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    day_before_yesterday = today - timedelta(days=2)
    assert (moment >= day_is_settled_at(day_before_yesterday)) == (
        moment >= midnight + timedelta(hours=12)
    )
    assert moment < day_is_settled_at(today - timedelta(days=1))
    assert moment >= day_is_settled_at(today - timedelta(days=3))


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_ids)
def test_the_daily_schedule_runs_next_at_its_time_within_a_day(moment):
    hour, minute = (int(part) for part in kollus_settings.STATS_SCHEDULE_TIME.split(":"))
    run = tasks._next_run(moment)
    assert moment < run <= moment + timedelta(days=1)
    assert (run.tzinfo, run.hour, run.minute, run.second) == (UTC, hour, minute, 0)


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_ids)
def test_the_range_form_is_about_the_day_it_was_given(moment):
    today = utc_today(moment)
    ends_today = {"range": "custom", "start": str(today - timedelta(days=1)), "end": str(today)}
    tomorrow = {**ends_today, "end": str(today + timedelta(days=1))}

    assert StatisticsRangeForm(ends_today, today=today).period() == DateRange(
        today - timedelta(days=1), today
    )
    assert not StatisticsRangeForm(tomorrow, today=today).is_valid()
    assert StatisticsRangeForm({"range": "7"}, today=today).period().end == today
    assert StatisticsRangeForm(None, today=today).period().end == today


@pytest.mark.django_db
@pytest.mark.parametrize("moment", MOMENTS, ids=moment_ids)
def test_the_schedule_prepares_the_presets_of_today_and_tomorrow(moment):
    """What the daily schedule sums (``prepare_rankings``) for the day it runs on, with the
    days from 3 to 39 days ago recorded final: the sums the report of that day and of the
    next day read, kept by that day's prune."""
    today = utc_today(moment)
    for offset in range(3, 40):
        store_snapshot(today - timedelta(days=offset), visitors=1, views={"a": 1, "b": offset})

    assert service.prepare_rankings(today) == 8

    # Per preset and day, its recorded days (from 3 days ago back to 39 days ago at most);
    # the 365 days hold the same recorded days as the 90 and are the same sum.
    spans = sorted((r.start, r.end) for r in StatsRollup.objects.filter(kind="settled"))
    first_recorded, last_recorded = today - timedelta(days=39), today - timedelta(days=3)
    expected = {
        (day, max(day - timedelta(days=days - 1), first_recorded), last_recorded)
        for day in (today, today + timedelta(days=1))
        for days in PRESET_DAYS
    }
    assert spans == sorted((start, end) for _day, start, end in expected)
