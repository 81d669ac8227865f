"""Refused plays: what the play callback writes for the report, what it costs, how long it stays."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from wagtail.models import PageViewRestriction

from tests.play_callback_support import MCKEY, answer, form, post, restrict, viewer_for
from wagtail_kollus.models import ApprovedPlay, RefusedPlay

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"),
]


def test_an_anonymous_refusal_is_recorded_with_page_video_reason_and_kind(client, lesson):
    restrict(lesson, PageViewRestriction.LOGIN)
    assert answer(post(client, form(viewer_for(), lesson, kind=3)))["result"] == 0
    row = RefusedPlay.objects.get()
    assert (row.user_id, row.page_id, row.media_content_key, row.kind) == (None, lesson.pk, MCKEY, 3)
    assert row.reason == "login_required" and row.reason_label == "Login required"
    assert row.message == "Log in to watch this video."
    assert row.cuid == viewer_for().cuid
    assert abs((timezone.now() - row.refused_at).total_seconds()) < 60


def test_a_member_refused_for_a_group_is_recorded_as_that_user(client, lesson, member):
    restrict(lesson, PageViewRestriction.GROUPS, groups=[Group.objects.create(name="Students")])
    assert answer(post(client, form(viewer_for(member), lesson)))["result"] == 0
    row = RefusedPlay.objects.get()
    assert row.user == member and row.reason == "group_required" and row.kind == 1


def test_password_and_stream_limit_and_forged_requests_have_their_own_reasons(
    client, lesson, member, settings
):
    restrict(lesson, PageViewRestriction.PASSWORD, password="sesame")
    post(client, form(viewer_for(), lesson))
    lesson_restrictions = PageViewRestriction.objects.filter(page=lesson)
    passed = [r.pk for r in lesson_restrictions]
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_MAX_STREAMS": 1}
    viewer = viewer_for(member, passed=passed)
    assert answer(post(client, form(viewer, lesson, device="a")))["result"] == 1
    assert answer(post(client, form(viewer, lesson, device="b")))["result"] == 0
    forged = {**form(viewer, lesson), "uservalues": json.dumps({"uservalue9": "forged"})}
    assert answer(post(client, forged))["result"] == 0
    rows = list(RefusedPlay.objects.order_by("pk").values_list("reason", "user_id", "page_id"))
    assert rows == [
        ("password_required", None, lesson.pk),
        ("stream_limit", member.pk, lesson.pk),
        # A forged context says nothing trustworthy about who or which page.
        ("invalid_context", None, None),
    ]


def test_allowed_plays_record_no_refusal(client, lesson, member):
    restrict(lesson, PageViewRestriction.LOGIN)
    for kind in (1, 3):
        assert answer(post(client, form(viewer_for(member), lesson, kind=kind)))["result"] == 1
    assert not RefusedPlay.objects.exists()


def test_a_refusal_costs_one_insert_and_allowed_plays_no_more_queries(
    client, lesson, member, settings, django_assert_max_num_queries, django_assert_num_queries
):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_MAX_STREAMS": 1}
    students = Group.objects.create(name="Students")
    member.groups.add(students)
    restrict(lesson, PageViewRestriction.GROUPS, groups=[students])
    with django_assert_max_num_queries(3):  # restrictions, stream count, approval
        assert answer(post(client, form(viewer_for(member), lesson, device="a")))["result"] == 1
    # Over the limit: restrictions, stream count, refusal.
    with django_assert_num_queries(3):
        assert answer(post(client, form(viewer_for(member), lesson, device="b")))["result"] == 0
    # Refused by the policy: restrictions, refusal.
    with django_assert_num_queries(2):
        assert answer(post(client, form(viewer_for(), lesson)))["result"] == 0
    # No valid context: the refusal alone.
    with django_assert_num_queries(1):
        assert answer(post(client, {**form(viewer_for(), lesson), "uservalues": "{}"}))
    assert RefusedPlay.objects.count() == 3
    assert ApprovedPlay.objects.count() == 1
    # Without the stream limit an allowed play is still the policy's one query.
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_MAX_STREAMS": 0}
    with django_assert_num_queries(1):
        assert answer(post(client, form(viewer_for(member), lesson, device="c")))["result"] == 1


def test_a_database_that_refuses_the_row_does_not_change_the_answer(client, lesson, caplog):
    from django.db import connection

    restrict(lesson, PageViewRestriction.LOGIN)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {RefusedPlay._meta.db_table}")
    data = answer(post(client, form(viewer_for(), lesson)))
    assert data["result"] == 0 and data["message"] == "Log in to watch this video."
    assert "Could not record a refused play" in caplog.text


def test_the_sweep_deletes_refusals_older_than_the_retention(settings):
    from wagtail_kollus.sweep import sweep

    now = timezone.now()
    for days in (1, 29, 31, 400):
        RefusedPlay.objects.create(refused_at=now - timezone.timedelta(days=days), reason="policy")
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "REFUSED_PLAYS_RETENTION_DAYS": 30}
    assert "deleted 2 old refused play(s)" in sweep()
    ages = sorted((now - r.refused_at).days for r in RefusedPlay.objects.all())
    assert ages == [1, 29]
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "REFUSED_PLAYS_RETENTION_DAYS": 0}
    RefusedPlay.objects.create(refused_at=now - timezone.timedelta(days=4000), reason="policy")
    assert "refused" not in sweep()
    assert RefusedPlay.objects.count() == 3


def test_a_deleted_user_or_page_keeps_the_history(client, lesson, member):
    restrict(lesson, PageViewRestriction.GROUPS, groups=[Group.objects.create(name="Students")])
    post(client, form(viewer_for(member), lesson))
    page_id, user_id = lesson.pk, member.pk
    User.objects.filter(pk=user_id).delete()
    lesson.delete()
    row = RefusedPlay.objects.select_related("user", "page").get()
    assert (row.user_id, row.page_id) == (user_id, page_id)
    assert row.user is None and row.page is None


def test_overlong_fields_are_cut_to_their_columns(client, lesson):
    long_key = "k" * 150  # the callback accepts up to 200 characters
    data = {**form(viewer_for(), lesson), "media_content_key": long_key, "uservalues": "{}"}
    assert answer(post(client, data))["result"] == 0
    row = RefusedPlay.objects.get()
    assert row.media_content_key == long_key[:100] and row.reason == "invalid_context"
