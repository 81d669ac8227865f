"""The statistics screens: permission, dashboard panel, report, charts' text alternatives,
exports read back, the stale notice, and the per-video view."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.urls import reverse

from tests.factories import store_snapshot
from tests.stats_support import (
    completed_keys,
    expected_views,
    stats_sandbox,  # noqa: F401  (the fixture ``kollus``)
    today,
)
from wagtail_kollus.models import KollusMedia
from wagtail_kollus.sandbox import statistics as sandbox_stats
from wagtail_kollus.stats.periods import DateRange

pytestmark = pytest.mark.django_db

REPORT = "wagtail_kollus_stats:report"


def _editor(django_user_model, *, statistics: bool):
    user = django_user_model.objects.create_user("editor", "e@example.com", "pw")
    group = Group.objects.create(name="Statistics test group")
    codenames = ["access_admin"] + (["view_kollus_statistics"] if statistics else [])
    group.permissions.set(Permission.objects.filter(codename__in=codenames))
    user.groups.add(group)
    return user


def test_without_the_permission_the_report_is_403_and_there_is_no_panel(
    kollus, client, django_user_model
):
    client.force_login(_editor(django_user_model, statistics=False))

    assert client.get(reverse(REPORT)).status_code == 403
    video = reverse("wagtail_kollus_stats:video", args=[completed_keys(kollus)[0]])
    assert client.get(video).status_code == 403
    dashboard = client.get(reverse("wagtailadmin_home"))
    assert dashboard.status_code == 200
    assert b'id="kollus-statistics-section"' not in dashboard.content
    assert kollus.request_count("kollus.*") == 0


def test_with_the_permission_the_dashboard_shows_the_panel(kollus, client, django_user_model):
    client.force_login(_editor(django_user_model, statistics=True))

    html = client.get(reverse("wagtailadmin_home")).content.decode()

    assert 'id="kollus-statistics-section"' in html
    assert "36 hours" in html
    top = max(expected_views(kollus, DateRange.last_days(7)).items(), key=lambda kv: (kv[1], kv[0]))
    assert reverse("wagtail_kollus_stats:video", args=[top[0]]) in html
    assert 'data-chart="kollus-panel-visitors"' in html


@pytest.fixture
def admin_client_with_stats(kollus, client, django_user_model):
    client.force_login(_editor(django_user_model, statistics=True))
    return client


def test_the_report_draws_accessible_charts_and_the_ranking(kollus, admin_client_with_stats):
    views = expected_views(kollus, DateRange.last_days(7))
    key = max(views, key=lambda k: (views[k], k))
    KollusMedia.objects.create(
        upload_file_key=key, title="Mirrored title", poster_url="https://img.example/p.jpg"
    )

    html = admin_client_with_stats.get(reverse(REPORT), {"range": "7"}).content.decode()

    for chart in ("kollus-report-visitors", "kollus-report-transfer"):
        svg = re.search(rf'<svg[^>]*data-chart="{chart}"[^>]*>', html).group(0)
        assert 'role="img"' in svg and "aria-label=" in svg
    assert html.count("<title>Unique visitors per day</title>") == 1
    assert 'class="w-sr-only kollus-chart__data"' in html
    assert "Mirrored title" in html and "https://img.example/p.jpg" in html
    assert "sandbox-access-token" not in html  # the token never reaches HTML
    assert "ordering=views" in html or "ordering=-views" in html


def test_the_ranking_shows_each_videos_rank_and_views(kollus, admin_client_with_stats):
    # On Wagtail 7.0 these cells were blank (the template read a context name only 7.1+ gives).
    response = admin_client_with_stats.get(reverse(REPORT), {"range": "7"})
    first = response.context["object_list"][0]
    html = response.content.decode()
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*?/statistics/video/.*?</tr>", html, re.S).group(0)
    cells = [re.sub(r"<[^>]+>|\s", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[0] == "1"
    assert f"{first.views:,}" in cells, cells


def test_sorting_by_title(kollus, admin_client_with_stats):
    response = admin_client_with_stats.get(reverse(REPORT), {"range": "7", "ordering": "title"})
    titles = [row.display_title for row in response.context["object_list"]]
    assert titles == sorted(titles, key=str.casefold)


def test_a_second_load_of_the_report_makes_no_remote_call(kollus, admin_client_with_stats):
    admin_client_with_stats.get(reverse(REPORT), {"range": "90"})
    calls = kollus.request_count("kollus.*")
    assert calls > 0

    admin_client_with_stats.get(reverse(REPORT), {"range": "90"})

    assert kollus.request_count("kollus.*") == calls


def test_xlsx_export_reads_back(kollus, admin_client_with_stats):
    period = DateRange.last_days(30)
    response = admin_client_with_stats.get(reverse(REPORT), {"range": "30", "export": "xlsx"})

    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0] == (
        "Rank",
        "Upload file key",
        "Title",
        "Views",
        "Play time (seconds)",
        "Used on pages",
    )
    assert {row[1]: row[3] for row in rows[1:]} == expected_views(kollus, period)
    assert [row[0] for row in rows[1:]] == list(range(1, len(rows)))


def test_csv_export_reads_back(kollus, admin_client_with_stats):
    period = DateRange.last_days(7)
    response = admin_client_with_stats.get(reverse(REPORT), {"range": "7", "export": "csv"})

    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["Upload file key"]: int(row["Views"]) for row in rows} == expected_views(
        kollus, period
    )


def test_a_custom_range_beyond_the_window_uses_snapshots(kollus, admin_client_with_stats):
    day = today() - timedelta(days=400)
    store_snapshot(day, visitors=1234, views={"old-video": 77})

    response = admin_client_with_stats.get(
        reverse(REPORT), {"range": "custom", "start": str(day), "end": str(day)}
    )

    assert response.status_code == 200
    assert kollus.request_count("kollus.*") == 0
    assert [(r.upload_file_key, r.views) for r in response.context["object_list"]] == [
        ("old-video", 77)
    ]
    assert response.context["account"].total_visitors == 1234


def test_an_invalid_custom_range_falls_back_to_the_default(kollus, admin_client_with_stats):
    response = admin_client_with_stats.get(
        reverse(REPORT), {"range": "custom", "start": "2026-02-02", "end": "2026-01-01"}
    )
    assert response.status_code == 200
    assert response.context["period"].days == 30
    assert "before the start date" in response.content.decode()


def test_kollus_down_shows_stale_figures_not_an_error(kollus, admin_client_with_stats):
    admin_client_with_stats.get(reverse(REPORT), {"range": "7"})
    # Only the 5-minute copies expire; the last good ones stay.
    period = DateRange.last_days(7)
    for kind in ("summary", "rank"):
        cache.delete(f"wagtail_kollus:stats:v1:{kind}:{period.start:%Y%m%d}:{period.end:%Y%m%d}")
    kollus.faults.set("kollus.stats_summary_daily", status=503)
    kollus.faults.set("kollus.stats_content_rank", status=503)

    response = admin_client_with_stats.get(reverse(REPORT), {"range": "7"})

    assert response.status_code == 200
    assert "stale since" in response.content.decode()
    assert len(response.context["object_list"]) > 0


def test_kollus_down_and_nothing_kept_still_renders(kollus, admin_client_with_stats):
    kollus.faults.set("kollus.stats_summary_daily", status=503)
    kollus.faults.set("kollus.stats_content_rank", status=503)

    response = admin_client_with_stats.get(reverse(REPORT), {"range": "7"})
    dashboard = admin_client_with_stats.get(reverse("wagtailadmin_home"))

    assert response.status_code == 200 and dashboard.status_code == 200
    html = response.content.decode()
    assert "Kollus did not answer for" in html
    # The days are inside Kollus's year: nothing about them being lost.
    assert "No figures for" not in html and "one year only" not in html


def test_the_video_view_derives_daily_views_from_snapshots(kollus, admin_client_with_stats):
    key = completed_keys(kollus)[0]
    now = today()
    for offset in range(4, 8):
        store_snapshot(now - timedelta(days=offset), visitors=1, views={key: offset})
    url = reverse("wagtail_kollus_stats:video", args=[key])

    response = admin_client_with_stats.get(url, {"range": "7"})

    assert response.status_code == 200
    series = response.context["view"].series
    points = {p.date: p.views for p in series.points}
    assert points[now - timedelta(days=6)] == 6
    assert points[now - timedelta(days=4)] == 4
    # The unrecorded recent days were asked for, one day per call (STATS_LIVE_DAYS_PER_VIDEO),
    # besides the one ranking call for the unsettled run the total shares with the report.
    assert kollus.request_count("kollus.stats_content_rank") == 3 + 1
    assert points[now] == sandbox_stats.daily_views(key, now)
    # now - 3 is neither recorded nor within the live budget: a gap, said so...
    assert points[now - timedelta(days=3)] is None
    assert series.provenance.unrecorded == [
        DateRange(now - timedelta(days=3), now - timedelta(days=3))
    ]
    # ... while the total counts it, as the report does.
    recent = DateRange(now - timedelta(days=3), now)
    assert series.views == 6 + 5 + 4 + expected_views(kollus, recent).get(key, 0)
    assert 'data-chart="kollus-video-views"' in response.content.decode()


def test_the_permission_is_offered_to_groups():
    from wagtail import hooks

    offered = {perm.codename for hook in hooks.get_hooks("register_permissions") for perm in hook()}
    assert "view_kollus_statistics" in offered


def test_the_results_fragment_and_an_unknown_video(kollus, admin_client_with_stats):
    fragment = admin_client_with_stats.get(
        reverse("wagtail_kollus_stats:report_results"), {"range": "7"}
    )
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content

    unknown = admin_client_with_stats.get(
        reverse("wagtail_kollus_stats:video", args=["no-such-key"]), {"range": "7"}
    )
    assert unknown.status_code == 200
    assert "no-such-key" in unknown.content.decode()


def test_the_ranking_lists_the_pages_that_show_the_video(kollus, admin_client_with_stats):
    from wagtail.models import Page

    from tests.testapp.models import VideoPage
    from wagtail_kollus.models import KollusVideo

    views = expected_views(kollus, DateRange.last_days(7))
    key = max(views, key=lambda k: (views[k], k))
    KollusMedia.objects.create(upload_file_key=key, title="Lesson one", media_content_key="mck-1")
    # Chosen from the contents API: linked to the media by its content key only.
    video = KollusVideo.objects.create(
        title="Lesson one", media_content_key="mck-1", content_id=1, item_id=1, language="ko"
    )
    root = Page.objects.get(depth=1)
    page = root.add_child(
        instance=VideoPage(
            title="Course landing", slug="course", body=[("video", {"video": video})]
        )
    )

    response = admin_client_with_stats.get(reverse(REPORT), {"range": "7", "export": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    row = next(r for r in rows if r["Upload file key"] == key)
    assert row["Used on pages"] == "Course landing"
    html = admin_client_with_stats.get(reverse(REPORT), {"range": "7"}).content.decode()
    assert reverse("wagtailadmin_pages:edit", args=[page.pk]) in html
