"""The learner progress reports (issue 17, item 7): the lessons overview, one page's learners,
one learner's lessons, their filters and exports, and the page editor's panel."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from wagtail.models import Page, ReferenceIndex

from tests.factories import make_page, make_progress, make_video, video_block_data
from wagtail_kollus.models import LearnerProgress

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>'


def make_user(django_user_model, name, *codenames, **fields):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw", **fields)
    group = Group.objects.create(name=f"{name} group")
    group.permissions.set(Permission.objects.filter(codename__in=["access_admin", *codenames]))
    user.groups.add(group)
    return user


@pytest.fixture
def viewer(client, django_user_model):
    client.force_login(make_user(django_user_model, "reporter", "view_learnerprogress"))
    return client


@pytest.fixture
def lesson(django_user_model):
    """A page with two videos; three learners: one finished both, one half of one, one
    started the first video a week ago and stopped at 10 %."""
    make_video(1, title="Intro video")
    make_video(2, title="Second video")
    page = make_page([], title="Lesson one")
    ann = make_user(django_user_model, "ann", first_name="Ann", last_name="Lee")
    bob = make_user(django_user_model, "bob")
    cid = make_user(django_user_model, "cid")
    make_progress(ann, page, "mckey0001", percent=100, completed=True)
    make_progress(ann, page, "mckey0002", percent=95, completed=True)
    make_progress(bob, page, "mckey0001", percent=50)
    make_progress(cid, page, "mckey0001", percent=10, days_ago=7)
    return {"page": page, "ann": ann, "bob": bob, "cid": cid}


def page_url(lesson, **query):
    url = reverse("wagtail_kollus_progress:page", args=[lesson["page"].pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_page_report_shows_its_figures_each_video_and_its_learners(viewer, lesson):
    response = viewer.get(page_url(lesson))
    assert response.status_code == 200
    figures = response.context["figures"]
    assert (figures.learners, figures.started, figures.completed) == (3, 3, 1)
    # (100 + 95) / 2, 50 / 2 and 10 / 2 percent of the page, on average.
    assert figures.average_percent == round((97.5 + 25 + 5) / 3, 1)
    videos = {v.title: (v.learners, v.completed) for v in figures.videos}
    assert videos == {"Intro video": (3, 1), "Second video": (1, 1)}
    html = response.content.decode()
    assert "Ann Lee" in html and "bob" in html and "cid" in html
    assert 'data-chart="kollus-progress-started"' in html
    assert 'data-chart="kollus-progress-completed"' in html
    assert reverse("wagtail_kollus_progress:learner", args=[lesson["ann"].pk]) in html


def test_the_page_report_counts_the_videos_the_page_shows(viewer, django_user_model):
    """As the learner's page completion does (``progress.lessons``): a video the page shows
    that nobody watched counts (at 0 %), a video since removed from the page does not."""
    shown, unwatched = make_video(1, title="Shown"), make_video(2, title="Not watched yet")
    page = make_page([video_block_data(shown), video_block_data(unwatched)], title="Two videos")
    ReferenceIndex.create_or_update_for_object(page)
    ann = make_user(django_user_model, "ann")
    make_progress(ann, page, "mckey0001", percent=100, completed=True)
    make_progress(ann, page, "removed-video", percent=100, completed=True)
    response = viewer.get(reverse("wagtail_kollus_progress:page", args=[page.pk]))
    figures = response.context["figures"]
    assert [(v.title, v.learners) for v in figures.videos] == [
        ("Not watched yet", 0), ("Shown", 1)
    ]
    assert (figures.learners, figures.completed, figures.average_percent) == (1, 0, 50)
    (row,) = response.context["object_list"]
    assert (row.videos, row.videos_completed, row.completed) == (1, 1, False)


def test_the_page_report_filters_by_completion_and_period(viewer, lesson):
    completed = viewer.get(page_url(lesson, state="completed"))
    assert [row.learner_name for row in completed.context["object_list"]] == ["Ann Lee"]
    assert completed.context["figures"].learners == 1
    in_progress = viewer.get(page_url(lesson, state="in_progress"))
    assert {row.learner_name for row in in_progress.context["object_list"]} == {"bob", "cid"}
    # The UTC day Ann and Bob last watched (the fixture's clock, not a second reading of
    # it: a run that crosses midnight UTC would otherwise ask for the day after).
    today = LearnerProgress.objects.get(learner=lesson["bob"]).last_watched_at.date()
    recent = viewer.get(page_url(lesson, start=today.isoformat()))
    assert {row.learner_name for row in recent.context["object_list"]} == {"Ann Lee", "bob"}
    # A period that ends before it starts: an error on the form, the whole history shown.
    wrong = viewer.get(page_url(lesson, start=today.isoformat(), end="2020-01-01"))
    assert wrong.status_code == 200
    assert "The end date is before the start date." in wrong.content.decode()
    assert wrong.context["figures"].learners == 3


def test_the_period_filter_counts_utc_days_as_the_charts_do(viewer, django_user_model, settings):
    """A site far from UTC: a learner who started at 20:00 UTC on 10 March (05:00 on the 11th
    in Seoul) is in the report of 10 March, as that day's bar of the chart counts them."""
    settings.TIME_ZONE = "Asia/Seoul"
    make_video(1, title="Intro video")
    page = make_page([], title="Late lesson")
    late = make_user(django_user_model, "late")
    evening = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    make_progress(late, page, first_watched_at=evening, last_watched_at=evening)
    day = "2026-03-10"

    response = viewer.get(
        reverse("wagtail_kollus_progress:page", args=[page.pk]) + f"?start={day}&end={day}"
    )

    assert [row.learner_name for row in response.context["object_list"]] == ["late"]
    assert response.context["figures"].learners == 1
    started, _completed = response.context["view"].progress.daily(response.context["days"])
    assert [(point.day.isoformat(), point.value) for point in started] == [(day, 1)]


def test_the_page_report_sorts_by_watched(viewer, lesson):
    response = viewer.get(page_url(lesson, ordering="-percent_sum"))
    names = [row.learner_name for row in response.context["object_list"]]
    assert names == ["Ann Lee", "bob", "cid"]


def test_the_page_report_costs_the_same_queries_for_3_or_60_learners(
    viewer, lesson, django_user_model
):
    with CaptureQueriesContext(connection) as few:
        assert viewer.get(page_url(lesson)).status_code == 200
    for n in range(60):
        make_progress(make_user(django_user_model, f"many{n}"), lesson["page"], percent=n)
    with CaptureQueriesContext(connection) as many:
        response = viewer.get(page_url(lesson))
    assert len(response.context["object_list"]) == 50  # paginated
    assert len(many.captured_queries) == len(few.captured_queries)


def test_csv_export_has_one_row_per_learner_and_video(viewer, lesson):
    response = viewer.get(page_url(lesson, export="csv"))
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 4
    ann = [r for r in rows if r["Learner"] == "Ann Lee"]
    assert {r["Video"] for r in ann} == {"Intro video", "Second video"}
    assert {r["Percent watched"] for r in ann} == {"100", "95"}
    assert all(r["Completed"] for r in ann)
    assert ann[0]["Email"] == "ann@example.com"


def test_xlsx_export_reads_back_with_the_filters_applied(viewer, lesson):
    response = viewer.get(page_url(lesson, state="in_progress", export="xlsx"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.values)
    assert rows[0][1] == "Learner"
    assert sorted(r[1] for r in rows[1:]) == ["bob", "cid"]


def test_the_learner_report_lists_their_lessons_with_filters(viewer, lesson):
    other = make_page([], title="Lesson two")
    make_progress(lesson["ann"], other, "mckey0001", percent=20)
    url = reverse("wagtail_kollus_progress:learner", args=[lesson["ann"].pk])
    response = viewer.get(url)
    assert response.status_code == 200
    rows = response.context["object_list"]
    assert {(r.page_title, r.video_title) for r in rows} == {
        ("Lesson one", "Intro video"), ("Lesson one", "Second video"), ("Lesson two", "Intro video")
    }
    assert viewer.get(url + "?state=completed").context["object_list"].__len__() == 2
    # Sections: the lessons and their ancestors; choosing one narrows to its subtree.
    form = response.context["filter_form"]
    choices = dict(form.fields["section"].choices)
    assert other.pk in choices and Page.objects.get(depth=2).pk in choices
    narrowed = viewer.get(f"{url}?section={other.pk}").context["object_list"]
    assert [r.page_title for r in narrowed] == ["Lesson two"]
    html = response.content.decode()
    assert reverse("wagtail_kollus_progress:learner_data", args=[lesson["ann"].pk]) in html
    csv_body = b"".join(viewer.get(url + "?export=csv").streaming_content).decode()
    assert len(list(csv.DictReader(io.StringIO(csv_body)))) == 3


def test_the_learner_data_download_is_their_whole_progress(viewer, lesson):
    url = reverse("wagtail_kollus_progress:learner_data", args=[lesson["ann"].pk])
    response = viewer.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["learner"] == {"id": lesson["ann"].pk, "username": "ann"}
    assert sorted(r["video_title"] for r in data["progress"]) == ["Intro video", "Second video"]
    assert data["progress"][0]["watched_intervals"]
    missing = reverse("wagtail_kollus_progress:learner_data", args=[999999])
    assert viewer.get(missing).status_code == 404


def test_the_overview_lists_pages_with_progress(viewer, lesson):
    response = viewer.get(reverse("wagtail_kollus_progress:pages"))
    assert response.status_code == 200
    (row,) = response.context["object_list"]
    assert row["page_title"] == "Lesson one" and row["learners"] == 3
    assert reverse("wagtail_kollus_progress:page", args=[lesson["page"].pk]) in (
        response.content.decode()
    )


def test_empty_reports_say_so(viewer):
    page = make_page([], title="Nobody watched")
    response = viewer.get(reverse("wagtail_kollus_progress:page", args=[page.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No learner has watched a video of this page yet." in html
    assert "No learner progress matches these filters." in html
    overview = viewer.get(reverse("wagtail_kollus_progress:pages")).content.decode()
    assert "No learner progress matches these filters." in overview
    assert viewer.get(reverse("wagtail_kollus_progress:page", args=[999999])).status_code == 404


def test_hostile_titles_and_names_are_escaped(viewer, django_user_model):
    make_video(1, title=HOSTILE)
    page = make_page([], title="Hostile")
    Page.objects.filter(pk=page.pk).update(title=HOSTILE, draft_title=HOSTILE)
    learner = make_user(django_user_model, "mallory", first_name=HOSTILE)
    make_progress(learner, page, "mckey0001", percent=40)
    urls = [
        reverse("wagtail_kollus_progress:page", args=[page.pk]),
        reverse("wagtail_kollus_progress:learner", args=[learner.pk]),
        reverse("wagtail_kollus_progress:pages"),
    ]
    for url in urls:
        html = viewer.get(url).content.decode()
        assert HOSTILE not in html, url
        assert "&lt;script&gt;" in html, url


def test_without_the_permission_every_screen_is_403(client, django_user_model, lesson):
    client.force_login(make_user(django_user_model, "plain"))
    urls = [
        reverse("wagtail_kollus_progress:pages"),
        page_url(lesson),
        page_url(lesson, export="csv"),
        reverse("wagtail_kollus_progress:learner", args=[lesson["ann"].pk]),
        reverse("wagtail_kollus_progress:learner_data", args=[lesson["ann"].pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"Ann Lee" not in response.content
    menu = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("wagtail_kollus_progress:pages") not in menu


def test_the_editor_panel_shows_the_page_figures_to_who_may_see_them(
    client, django_user_model, lesson
):
    edit = reverse("wagtailadmin_pages:edit", args=[lesson["page"].pk])
    editor = make_user(django_user_model, "editor", "view_learnerprogress")
    from wagtail.models import GroupPagePermission

    GroupPagePermission.objects.create(
        group=editor.groups.get(), page=Page.objects.get(depth=2), permission_type="change"
    )
    client.force_login(editor)
    html = client.get(edit).content.decode()
    assert "data-kollus-progress-panel" in html
    assert 'data-figure="learners">3<' in html and 'data-figure="completed">1<' in html
    assert page_url(lesson) in html
    # Without the permission: no panel.
    editor.groups.get().permissions.remove(Permission.objects.get(codename="view_learnerprogress"))
    client.force_login(django_user_model.objects.get(pk=editor.pk))
    assert "data-kollus-progress-panel" not in client.get(edit).content.decode()


def test_the_overview_filters_by_section_and_exports_every_row(viewer, lesson, django_user_model):
    course = make_page([], title="Course")
    lesson_two = course.add_child(instance=Page(title="Lesson two", slug="lesson-two"))
    make_progress(lesson["bob"], lesson_two, "mckey0002", percent=80)
    url = reverse("wagtail_kollus_progress:pages")
    both = viewer.get(url).context["object_list"]
    assert {row["page_title"] for row in both} == {"Lesson one", "Lesson two"}
    in_course = viewer.get(f"{url}?section={course.pk}").context["object_list"]
    assert [row["page_title"] for row in in_course] == ["Lesson two"]
    body = b"".join(viewer.get(f"{url}?section={course.pk}&export=csv").streaming_content)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [(r["Page"], r["Learner"], r["Percent watched"]) for r in rows] == [
        ("Lesson two", "bob", "80")
    ]


def test_the_overview_average_is_the_page_reports_average(viewer, django_user_model):
    """A video of the page not started counts as 0 % on the overview too, as in the page's
    report and on the learner's page (docs/progress-reports.md): 100, 33, 10 and 0 %."""
    videos = [make_video(n, title=f"Video {n}") for n in (1, 2, 3, 4)]
    page = make_page([video_block_data(video) for video in videos], title="Course")
    ReferenceIndex.create_or_update_for_object(page)
    ann = make_user(django_user_model, "ann")
    make_progress(ann, page, "mckey0001", percent=100, completed=True)
    make_progress(ann, page, "mckey0002", percent=33)
    make_progress(ann, page, "mckey0003", percent=10)
    make_progress(ann, page, "removed-video", percent=90)  # no longer on the page
    other = make_page([], title="No video block")
    make_progress(ann, other, "mckey0001", percent=40)
    make_progress(ann, other, "mckey0002", percent=0)
    report = viewer.get(reverse("wagtail_kollus_progress:page", args=[page.pk]))
    assert report.context["figures"].average_percent == 35.8
    with CaptureQueriesContext(connection) as queries:
        overview = viewer.get(reverse("wagtail_kollus_progress:pages"))
    averages = {row["page_title"]: row["average_percent"] for row in overview.context["object_list"]}
    assert averages == {"Course": 35.8, "No video block": 20.0}
    assert "35.8" in overview.content.decode()
    for n in range(3):  # more pages, same number of queries
        extra = make_page([video_block_data(videos[0])], title=f"Extra {n}")
        ReferenceIndex.create_or_update_for_object(extra)
        make_progress(ann, extra, "mckey0001", percent=50)
    with CaptureQueriesContext(connection) as more_queries:
        viewer.get(reverse("wagtail_kollus_progress:pages"))
    assert len(more_queries) == len(queries)


def test_each_listing_counts_its_rows_in_its_own_noun(viewer, lesson):
    """Wagtail's count used the model's name: "1 learner progress" under a list of pages."""
    from django.utils import translation
    from django.utils.translation import ngettext

    def count_label(url):
        return viewer.get(url).context["page_obj"].paginator.items_count_label

    assert count_label(reverse("wagtail_kollus_progress:pages")) == "1 page"
    assert count_label(page_url(lesson)) == "3 learners"
    learner = reverse("wagtail_kollus_progress:learner", args=[lesson["ann"].pk])
    assert count_label(learner) == "2 videos"
    assert count_label(reverse("wagtail_kollus_progress:learner", args=[lesson["bob"].pk])) == (
        "1 video"
    )
    html = viewer.get(learner).content.decode()
    assert "2 videos" in html and "2 learner progress" not in html
    with translation.override("ko"):
        assert ngettext("%(count)s learner", "%(count)s learners", 3) % {"count": 3} == "학습자 3명"
