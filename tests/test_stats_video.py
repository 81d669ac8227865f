"""One video's statistics agree with the report, say honestly which days they lack and why,
and let an editor fill the gaps without a shell."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.html import escape

from tests.factories import store_snapshot
from tests.stats_support import (
    completed_keys,
    expected_views,
    stats_sandbox,  # noqa: F401  (the fixture ``kollus``)
    today,
)
from wagtail_kollus.models import DailyStatsSnapshot, KollusMedia
from wagtail_kollus.sandbox import statistics as sandbox_stats
from wagtail_kollus.stats.periods import DateRange, oldest_day_kollus_answers
from wagtail_kollus.testing import running_cluster, wait_for

REPORT = "wagtail_kollus_stats:report"


def video_url(key: str) -> str:
    return reverse("wagtail_kollus_stats:video", args=[key])


def report_views(client, query: dict) -> dict[str, int]:
    response = client.get(reverse(REPORT), {**query, "export": "csv"})
    lines = b"".join(response.streaming_content).decode().splitlines()[1:]
    return {line.split(",")[1]: int(line.split(",")[3]) for line in lines}


def shown_total(html: str) -> int:
    return int(re.search(r"data-kollus-video-views>([\d,]+)<", html).group(1).replace(",", ""))


@pytest.mark.django_db
@pytest.mark.parametrize("days", [7, 30, 365])
def test_a_video_shows_the_views_the_report_gives_it(kollus, admin_client, days):
    """Without any recorded day (a fresh site): the total is the report's row, not the sum of
    the three days the page may ask Kollus for one by one."""
    ranked = report_views(admin_client, {"range": str(days)})
    top, second = sorted(ranked, key=lambda key: -ranked[key])[:2]

    for key in (top, second):
        html = admin_client.get(video_url(key), {"range": str(days)}).content.decode()
        assert (
            shown_total(html)
            == ranked[key]
            == expected_views(kollus, DateRange.last_days(days))[key]
        )
        # Every day is inside Kollus's year: nothing is "lost", and no shell command is offered.
        assert "one year only" not in html and "kollus_stats" not in html
        assert "Not recorded yet" in html and "data-kollus-stats-record" in html


@pytest.mark.django_db
def test_days_before_kollus_year_are_the_only_missing_ones(kollus, admin_client):
    key = completed_keys(kollus)[0]
    oldest = oldest_day_kollus_answers(today())
    before = oldest - timedelta(days=3)
    store_snapshot(before, visitors=5, views={key: 9})
    period = {
        "range": "custom",
        "start": str(before - timedelta(days=2)),
        "end": str(oldest + timedelta(days=1)),
    }

    response = admin_client.get(video_url(key), period)

    html = response.content.decode()
    provenance = response.context["view"].series.provenance
    assert provenance.missing == [
        DateRange(before - timedelta(days=2), before - timedelta(days=1)),
        DateRange(before + timedelta(days=1), oldest - timedelta(days=1)),
    ]
    assert "No figures for" in html and "one year only" in html
    points = {p.date: p.views for p in response.context["view"].series.points}
    assert points[before] == 9


@pytest.mark.django_db
def test_a_video_not_in_the_library_is_titled_as_kollus_names_it(kollus, admin_client):
    key = completed_keys(kollus)[0]
    kollus_title = kollus.state.media[key]["title"]

    html = admin_client.get(video_url(key), {"range": "30"}).content.decode()

    heading = re.search(r'<h2 class="kollus-stats-video-header__title">(.*?)</h2>', html, re.S)
    assert escape(kollus_title) in heading.group(1) and key not in heading.group(1)
    assert "Not in the library" in html

    KollusMedia.objects.create(upload_file_key=key, title="Our own title")
    html = admin_client.get(video_url(key), {"range": "30"}).content.decode()
    assert "Our own title" in html and "Not in the library" not in html

    unknown = admin_client.get(video_url("nobody-knows-this-key"), {"range": "7"})
    assert unknown.status_code == 200
    assert "Untitled video" in unknown.content.decode()


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_an_editor_records_the_missing_days_and_the_chart_adds_up(kollus, admin_client):
    key = completed_keys(kollus)[0]
    url = video_url(key)
    page = admin_client.get(url, {"range": "30"})
    unrecorded = page.context["unrecorded_count"]
    assert unrecorded == 30 - 3  # the three newest days are asked live

    with running_cluster():
        response = admin_client.post(
            reverse("wagtail_kollus_stats:record") + "?range=30", {"next": f"{url}?range=30"}
        )
        assert response.status_code == 302 and response.url == f"{url}?range=30"
        wait_for(
            lambda: (
                DailyStatsSnapshot.objects.filter(videos_recorded_at__isnull=False).count() >= 30
            ),
            timeout=60,
            message="the worker did not record the days",
        )

    page = admin_client.get(url, {"range": "30"})
    series = page.context["view"].series
    assert page.context["unrecorded_count"] == 0
    assert "Not recorded yet" not in page.content.decode()
    assert all(point.views is not None for point in series.points)
    assert sum(point.views for point in series.points) == series.views
    assert series.views == sum(
        sandbox_stats.daily_views(key, day) for day in DateRange.last_days(30)
    )


@pytest.mark.django_db
def test_a_second_request_while_recording_queues_nothing(kollus, admin_client):
    from django_q.models import OrmQ

    key = completed_keys(kollus)[0]
    record = reverse("wagtail_kollus_stats:record") + "?range=30"
    first = admin_client.post(record, {"next": video_url(key)}, follow=True)
    second = admin_client.post(record, {"next": "https://elsewhere.example/"}, follow=True)

    assert OrmQ.objects.count() == 1
    assert "Recording 30 days in the background" in first.content.decode()
    assert "are being recorded" in second.content.decode()
    # An outside "next" is not followed.
    assert second.redirect_chain[-1][0] == reverse(REPORT)
    assert (
        "data-kollus-stats-recording"
        in admin_client.get(video_url(key), {"range": "30"}).content.decode()
    )
