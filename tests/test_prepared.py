"""Statements compiled once (``wagtail_kollus.prepared``): each gives what the ORM query it was
compiled from gives, for every value, and a statement that cannot be prepared says so.

Run on SQLite and on PostgreSQL (the ``postgres`` session): the SQL is each backend's own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction

from tests.play_callback_support import restrict
from tests.testapp.models import VideoPage
from wagtail_kollus.models import ApprovedPlay, RefusedPlay
from wagtail_kollus.playback import policy
from wagtail_kollus.playback.viewer import Viewer, user_viewer_id
from wagtail_kollus.prepared import (
    Slot,
    UnpreparedValue,
    prepare_insert,
    prepare_select,
    sentinel_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    """A course restricted to a group, with a lesson under it restricted to logged-in users."""
    home = Page.objects.get(depth=2)
    course = home.add_child(instance=VideoPage(title="Course", slug="course"))
    lesson = course.add_child(instance=VideoPage(title="Lesson", slug="lesson"))
    group = Group.objects.create(name="Class A")
    restrict(course, PageViewRestriction.GROUPS, groups=[group])
    restrict(lesson, PageViewRestriction.LOGIN)
    member = User.objects.create_user("member")
    member.groups.add(group)
    outsider = User.objects.create_user("outsider")
    boss = User.objects.create_user("boss", is_superuser=True)
    gone = User.objects.create_user("gone", is_active=False)
    gone.groups.add(group)
    return home, course, lesson, [member, outsider, boss, gone]


def _rows(rows):
    return sorted(
        (r["pk"], r["restriction_type"], r["groups"], r.get("superuser"), bool(r.get("member")))
        for r in rows
    )


def test_the_privacy_statement_answers_as_the_orm_for_every_page_and_viewer(tree):
    home, course, lesson, users = tree
    for page in (home, course, lesson):
        step = Page.steplen
        prefixes = [page.path[:end] for end in range(step, len(page.path) + 1, step)]
        for user_id in [None, *(u.pk for u in users), 999_999]:
            expected = _rows(
                policy._restrictions_query(DEFAULT_DB_ALIAS, page.pk, prefixes, user_id)
            )
            assert expected == _rows(
                policy._restrictions_query(DEFAULT_DB_ALIAS, page.pk, [], user_id)
            ), "by path and by id agree"
            values = {f"prefix{n}": p for n, p in enumerate(prefixes)}
            if user_id is not None:
                values["user_id"] = user_id
            by_path = policy._restrictions_statement(
                DEFAULT_DB_ALIAS, len(prefixes), user_id is not None
            )
            by_id = policy._restrictions_statement(DEFAULT_DB_ALIAS, 0, user_id is not None)
            id_values = {k: v for k, v in values.items() if not k.startswith("prefix")}
            assert _rows(by_path.fetchall(DEFAULT_DB_ALIAS, **values)) == expected
            assert _rows(by_id.fetchall(DEFAULT_DB_ALIAS, page_id=page.pk, **id_values)) == expected
    # The lesson's two restrictions, and what each viewer is refused for.
    privacy = policy.PagePrivacyPolicy()
    member, outsider, boss, gone = users

    def unmet(user):
        viewer = Viewer(cuid=user_viewer_id(user.pk), user_id=user.pk)
        return privacy._read_unmet_restriction(viewer, lesson.pk, lesson.path)

    assert unmet(member) is None and unmet(boss) is None
    assert unmet(outsider) == PageViewRestriction.GROUPS
    assert unmet(gone) in (PageViewRestriction.GROUPS, PageViewRestriction.LOGIN)


def test_the_stream_count_counts_what_the_orm_counts_up_to_the_limit():
    now = timezone.now()
    for n in range(5):
        ApprovedPlay.objects.create(
            cuid="viewer",
            device=f"d{n}",
            media_content_key="k",
            expires_at=now + timedelta(hours=n - 1),
        )
    for device in ("d0", "d3", "other"):
        orm = (
            ApprovedPlay.objects.filter(cuid="viewer", expires_at__gt=now)
            .exclude(device=device)
            .count()
        )
        for limit in (1, 2, 3, 10):
            streams = ApprovedPlay.streams("viewer", device, now, limit)
            assert streams.others == min(orm, limit)
            if limit == 10 and device == "d3":  # all rows read: the device's own is found
                assert streams.own["expires_at"] == now + timedelta(hours=2)
                assert streams.own["media_content_key"] == "k"
            if device in ("d0", "other"):  # d0 has expired
                assert streams.own is None
    assert ApprovedPlay.streams("nobody", "d0", now, 3).others == 0


def test_the_upsert_inserts_then_renews_one_row_per_device():
    later = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    ApprovedPlay.record(cuid="v", device="d", media_content_key="a", page_id=None, expires_at=later)
    ApprovedPlay.record(
        cuid="v",
        device="d",
        media_content_key="b",
        page_id=7,
        expires_at=later + timedelta(hours=1),
    )
    ApprovedPlay.record(cuid="v", device="e", media_content_key="c", page_id=8, expires_at=later)
    rows = {r.device: r for r in ApprovedPlay.objects.filter(cuid="v")}
    assert set(rows) == {"d", "e"}
    assert (rows["d"].media_content_key, rows["d"].page_id) == ("b", 7)
    assert rows["d"].expires_at == later + timedelta(hours=1)
    assert rows["e"].expires_at == later


def test_a_refusal_is_one_row_with_its_text_cut_to_the_columns_and_defaults_filled():
    user = User.objects.create_user("someone")
    RefusedPlay.record(cuid="c" * 300, user_id=user.pk, reason="r" * 80, media_content_key="k")
    row = RefusedPlay.objects.get()
    assert len(row.cuid) == 200 and len(row.reason) == 50
    assert row.user_id == user.pk and row.page_id is None and row.message == "" and row.kind == 0
    assert abs((timezone.now() - row.refused_at).total_seconds()) < 60
    with pytest.raises(TypeError):
        RefusedPlay.record(cuid="c", colour="blue")


def test_select_results_go_through_the_orms_converters():
    at = datetime(2031, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
    ApprovedPlay.objects.create(cuid="v", device="d", media_content_key="k", expires_at=at)
    field = ApprovedPlay._meta.get_field("cuid")
    query = ApprovedPlay.objects.filter(cuid=sentinel_for(field)).values("expires_at", "page_id")
    statement = prepare_select(query, {"cuid": Slot(sentinel_for(field), field)})
    assert statement.fetchall(DEFAULT_DB_ALIAS, cuid="v") == [{"expires_at": at, "page_id": None}]
    assert statement.fetchall(DEFAULT_DB_ALIAS, cuid="w") == []
    with pytest.raises(TypeError):
        statement.fetchall(DEFAULT_DB_ALIAS)


def test_a_value_the_sql_does_not_take_as_a_parameter_cannot_be_prepared():
    query = ApprovedPlay.objects.filter(cuid="a real viewer").values("pk")
    with pytest.raises(UnpreparedValue):
        prepare_select(query, {"cuid": Slot("\x00not-there")})
    with pytest.raises(ValueError, match="values"):
        prepare_select(ApprovedPlay.objects.all(), {})


def test_an_insert_is_compiled_for_every_field_and_fields_without_a_sentinel_are_refused():
    statement = prepare_insert(RefusedPlay, using=DEFAULT_DB_ALIAS)
    assert set(statement.positions) == {
        f.attname for f in RefusedPlay._meta.concrete_fields if not f.primary_key
    }
    with pytest.raises(ValueError, match="No sentinel"):
        sentinel_for(User._meta.get_field("is_active"))


def test_where_the_statement_cannot_be_prepared_the_orm_answers_the_same(tree, monkeypatch):
    # A user model whose keys are not integers has no sentinel: the policy then builds the
    # query with the ORM on each call, and must answer the same.
    _home, _course, lesson, users = tree
    privacy = policy.PagePrivacyPolicy()
    viewers = [Viewer(cuid=user_viewer_id(u.pk), user_id=u.pk) for u in users]
    prepared = [privacy._read_unmet_restriction(v, lesson.pk, lesson.path) for v in viewers]
    monkeypatch.setattr(policy, "_restrictions_statement", lambda *args: None)
    assert [privacy._read_unmet_restriction(v, lesson.pk, lesson.path) for v in viewers] == prepared
    assert prepared[1] == PageViewRestriction.GROUPS
