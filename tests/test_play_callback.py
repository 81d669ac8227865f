"""The play callback (Kollus's kinds 1 and 3) through Django's test client: what it answers,
to whom, from which rules, in how many queries, and what a forged request gets."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from django.contrib.auth.models import Group, User
from django.test import RequestFactory
from django.urls import reverse
from wagtail.models import Page, PageViewRestriction

from tests.play_callback_support import (
    MCKEY,
    SECURITY_KEY,
    TOKEN,
    answer,
    form,
    post,
    restrict,
    viewer_for,
)
from tests.testapp.models import VideoPage
from wagtail_kollus.models import ApprovedPlay
from wagtail_kollus.playback.viewer import user_viewer_id

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"),
]


@pytest.mark.parametrize("kind", [1, 3])
def test_a_member_of_a_login_page_may_play_with_integer_fields_signed_and_keyed(
    client, lesson, member, kind
):
    restrict(lesson, PageViewRestriction.LOGIN)
    before = int(time.time())
    data = answer(post(client, form(viewer_for(member), lesson, kind=kind)))
    assert data["kind"] == kind and data["result"] == 1
    assert data["media_content_key"] == MCKEY
    assert before + 3 * 3600 <= data["expiration_date"] <= int(time.time()) + 3 * 3600
    assert data["expiration_playtime"] == 0 and data["content_expired"] == 0
    assert "play_section" not in data


def test_an_anonymous_viewer_of_a_login_page_is_refused_with_a_reason(client, lesson):
    restrict(lesson, PageViewRestriction.LOGIN)
    data = answer(post(client, form(viewer_for(), lesson)))
    assert data["result"] == 0
    assert data["message"] == "Log in to watch this video."


def test_a_preview_plays_only_its_first_seconds(client, lesson, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_PREVIEW_SECONDS": 30}
    restrict(lesson, PageViewRestriction.LOGIN)
    data = answer(post(client, form(viewer_for(), lesson, kind=3)))
    assert data["result"] == 1
    assert data["play_section"] == {"start_time": 0, "end_time": 30}
    assert data["expiration_playtime"] == 30


def test_group_restrictions_follow_membership_at_play_time(client, lesson, member):
    students = Group.objects.create(name="Students")
    restrict(lesson, PageViewRestriction.GROUPS, groups=[students, Group.objects.create(name="x")])
    assert answer(post(client, form(viewer_for(member), lesson)))["result"] == 0
    member.groups.add(students)
    assert answer(post(client, form(viewer_for(member), lesson)))["result"] == 1
    # Membership revoked after the player was rendered: the same URL no longer plays.
    member.groups.clear()
    refused = answer(post(client, form(viewer_for(member), lesson)))
    assert refused["result"] == 0 and refused["message"]
    root = User.objects.create_superuser("root", "r@example.com", "pw")
    assert answer(post(client, form(viewer_for(root), lesson)))["result"] == 1


def test_a_deactivated_user_no_longer_plays(client, lesson, member):
    restrict(lesson, PageViewRestriction.LOGIN)
    assert answer(post(client, form(viewer_for(member), lesson)))["result"] == 1
    User.objects.filter(pk=member.pk).update(is_active=False)
    assert answer(post(client, form(viewer_for(member), lesson)))["result"] == 0


def test_a_page_password_counts_when_the_viewer_had_given_it(client, lesson):
    restriction = restrict(lesson, PageViewRestriction.PASSWORD, password="sesame")
    refused = answer(post(client, form(viewer_for(), lesson)))
    assert refused["result"] == 0 and "password" in refused["message"]
    assert answer(post(client, form(viewer_for(passed=[restriction.pk]), lesson)))["result"] == 1


@pytest.mark.parametrize("by_path", [True, False], ids=["by-path", "by-page-id"])
def test_restrictions_of_ancestors_count(client, lesson, member, by_path):
    # With the page's path signed in the context, or (a context from a cached page's
    # reference) only its id: the same answers.
    child = lesson.add_child(instance=VideoPage(title="Part 2", slug="part-2"))
    other = Page.objects.get(depth=2).add_child(instance=VideoPage(title="Other", slug="other"))
    restrict(lesson, PageViewRestriction.LOGIN)
    for page, anonymous_result in ((lesson, 0), (child, 0), (other, 1)):
        anonymous = form(viewer_for(), page, by_path=by_path)
        assert answer(post(client, anonymous))["result"] == anonymous_result, page
        signed_in = form(viewer_for(member), page, by_path=by_path)
        assert answer(post(client, signed_in))["result"] == 1, page


def test_a_public_page_plays_for_anyone(client, lesson):
    assert answer(post(client, form(viewer_for(), lesson)))["result"] == 1


# --- forged, replayed, malformed ------------------------------------------------------------


def forged_forms(lesson, member):
    good = form(viewer_for(member), lesson)
    context = json.loads(good["uservalues"])["uservalue9"]
    other = User.objects.create_user("other", "o@example.com", "pw")
    return {
        "no context": {**good, "uservalues": "{}"},
        "not json": {**good, "uservalues": "{"},
        "altered": {**good, "uservalues": json.dumps({"uservalue9": context[:-2] + "xx"})},
        "another viewer": {**good, "client_user_id": user_viewer_id(other.pk)},
        "another video": {**good, "media_content_key": "mck-other"},
        "unknown kind": {**good, "kind": "2"},
    }


def test_forged_requests_all_get_the_same_refusal(client, lesson, member):
    restrict(lesson, PageViewRestriction.LOGIN)
    refusals = {}
    for name, data in forged_forms(lesson, member).items():
        refusal = answer(post(client, data))
        assert refusal["result"] == 0, name
        refusals[name] = (refusal["message"], refusal["expiration_date"])
    assert set(refusals.values()) == {("This video cannot be played here.", 0)}
    assert not ApprovedPlay.objects.exists()


def test_a_replay_after_the_token_expired_is_refused(client, lesson, member, monkeypatch):
    data = form(viewer_for(member), lesson)
    assert answer(post(client, data))["result"] == 1
    later = time.time() + 300 + 5  # PLAYER_TOKEN_LIFETIME is 300 s
    monkeypatch.setattr(time, "time", lambda: later)
    refused = answer(post(client, data))
    assert refused["result"] == 0 and refused["message"] == "This video cannot be played here."


def test_a_wrong_token_or_method_gets_nothing_signed(client, lesson, member):
    data = form(viewer_for(member), lesson)
    for token in (TOKEN[:-1] + "X", "x"):
        response = post(client, data, token=token)
        assert response.status_code == 403 and response.content == b""
    url = reverse("wagtail_kollus:callback-play", kwargs={"token": TOKEN})
    assert client.get(url).status_code == 405
    unslashed = reverse("wagtail_kollus:callback-play-unslashed", kwargs={"token": TOKEN})
    assert answer(client.post(unslashed, data))["result"] == 1


# --- streams --------------------------------------------------------------------------------


def test_a_third_device_is_refused_naming_the_limit(client, lesson, member, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_MAX_STREAMS": 2}
    viewer = viewer_for(member)
    for device in ("phone", "laptop"):
        assert answer(post(client, form(viewer, lesson, device=device)))["result"] == 1
        assert answer(post(client, form(viewer, lesson, device=device, kind=3)))["result"] == 1
    third = answer(post(client, form(viewer, lesson, device="tablet")))
    assert third["result"] == 0
    assert "2 devices" in third["message"]
    # A device already playing asks again (a reload): it renews its own stream.
    assert answer(post(client, form(viewer, lesson, device="phone")))["result"] == 1
    assert ApprovedPlay.objects.filter(cuid=viewer.cuid).count() == 2
    # Another viewer is not counted with this one.
    someone = User.objects.create_user("someone", "s@example.com", "pw")
    assert answer(post(client, form(viewer_for(someone), lesson, device="tablet")))["result"] == 1
    # Streams that expired no longer count.
    ApprovedPlay.objects.filter(cuid=viewer.cuid).update(expires_at="2000-01-01T00:00:00Z")
    assert answer(post(client, form(viewer, lesson, device="tablet")))["result"] == 1


def test_at_most_three_queries(client, lesson, member, settings, django_assert_max_num_queries):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_MAX_STREAMS": 2}
    students = Group.objects.create(name="Students")
    member.groups.add(students)
    restrict(lesson, PageViewRestriction.LOGIN)
    restrict(lesson, PageViewRestriction.GROUPS, groups=[students])
    for kind in (1, 3):
        with django_assert_max_num_queries(3):
            assert answer(post(client, form(viewer_for(member), lesson, kind=kind)))["result"] == 1


# --- render time ----------------------------------------------------------------------------


def test_render_time_player_of_a_refused_viewer_is_a_message_not_a_player(lesson, member):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    from wagtail_kollus.playback.markup import render_player

    restrict(lesson, PageViewRestriction.LOGIN)
    request = RequestFactory().get("/")
    request.user, request.session = AnonymousUser(), SessionStore()
    html = render_player(MCKEY, request=request, page=lesson, cache_safe=False)
    assert "data-kollus-refused" in html and "Log in to watch this video." in html
    assert "<iframe" not in html and "jwt=" not in html
    request.user = member
    html = render_player(MCKEY, request=request, page=lesson, cache_safe=False)
    assert "<iframe" in html and "uservalue9=" in html


def test_the_token_endpoint_asks_the_policy_for_the_viewer_who_asks(
    client, lesson, member, settings
):
    from urllib.parse import parse_qs, urlsplit

    from wagtail_kollus.playback import Playable, sign_reference

    restrict(lesson, PageViewRestriction.LOGIN)
    url = reverse("wagtail_kollus:player_token")
    reference = sign_reference(Playable(MCKEY), page_id=lesson.pk)
    refused = client.get(url, {"reference": reference}, REMOTE_ADDR="192.0.2.200")
    assert refused.status_code == 403
    assert refused.json() == {"error": "refused", "message": "Log in to watch this video."}
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_PREVIEW_SECONDS": 45}
    preview = client.get(url, {"reference": reference}, REMOTE_ADDR="192.0.2.200").json()["url"]
    query = parse_qs(urlsplit(preview).query)
    claims = jwt.decode(query["jwt"][0], SECURITY_KEY, algorithms=["HS256"])
    assert claims["mc"][0]["play_section"] == {"start_time": 0, "end_time": 45}
    client.force_login(member)
    full = client.get(url, {"reference": reference}, REMOTE_ADDR="192.0.2.200").json()["url"]
    query = parse_qs(urlsplit(full).query)
    claims = jwt.decode(query["jwt"][0], SECURITY_KEY, algorithms=["HS256"])
    assert "play_section" not in claims["mc"][0]
    # The URL's play context is this viewer's: the play callback accepts it for them.
    data = {
        "kind": "1",
        "client_user_id": claims["cuid"],
        "media_content_key": MCKEY,
        "hardware_id": "d",
        "uservalues": json.dumps({"uservalue9": query["uservalue9"][0]}),
    }
    assert claims["cuid"] == user_viewer_id(member.pk)
    assert answer(post(client, data))["result"] == 1


def test_the_sweep_deletes_expired_plays_only(member):
    from django.utils import timezone

    from wagtail_kollus.sweep import sweep

    now = timezone.now()
    ApprovedPlay.objects.create(cuid="c", device="old", media_content_key="k", expires_at=now)
    ApprovedPlay.objects.create(
        cuid="c", device="new", media_content_key="k", expires_at=now + timezone.timedelta(hours=1)
    )
    assert "deleted 1 expired play(s)" in sweep()
    assert list(ApprovedPlay.objects.values_list("device", flat=True)) == ["new"]


def test_the_lazy_page_gives_its_id_and_path_without_building_and_the_rest_on_use(
    lesson, django_assert_num_queries
):
    from wagtail_kollus.playback.policy import lazy_page

    page = lazy_page(lesson.pk, lesson.path)
    with django_assert_num_queries(0):
        assert (page.pk, page.id, page.path) == (lesson.pk, lesson.pk, lesson.path)
        assert page.__dict__.get("path") == lesson.path
    assert page._wrapped.__class__.__name__ == "object", "not built for the id and path"
    with django_assert_num_queries(1):
        assert page.title == "Lesson 1"
    assert isinstance(page, Page) and page.specific == lesson
    assert lazy_page(None) is None
    assert "path" not in lazy_page(lesson.pk).__dict__


def test_kind_3_right_after_kind_1_keeps_the_approval_and_a_later_play_renews_it(
    client, lesson, member, settings, django_assert_num_queries
):
    from django.utils import timezone

    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_MAX_STREAMS": 2}
    viewer = viewer_for(member)
    assert answer(post(client, form(viewer, lesson, device="phone")))["result"] == 1
    written = ApprovedPlay.objects.get(cuid=viewer.cuid, device="phone")
    # Kind 3 seconds later: the privacy query and the stream read, no write.
    with django_assert_num_queries(2):
        assert answer(post(client, form(viewer, lesson, device="phone", kind=3)))["result"] == 1
    assert ApprovedPlay.objects.get(pk=written.pk).expires_at == written.expires_at
    # Another video on the same device is written at once.
    assert (
        answer(post(client, form(viewer, lesson, device="phone", mckey="other-key")))["result"] == 1
    )
    assert ApprovedPlay.objects.get(pk=written.pk).media_content_key == "other-key"
    # A play once the approval is nearly over renews it.
    soon = timezone.now() + timezone.timedelta(seconds=30)
    ApprovedPlay.objects.filter(pk=written.pk).update(expires_at=soon)
    assert (
        answer(post(client, form(viewer, lesson, device="phone", mckey="other-key")))["result"] == 1
    )
    assert ApprovedPlay.objects.get(pk=written.pk).expires_at > soon + timezone.timedelta(hours=1)
    assert ApprovedPlay.objects.filter(cuid=viewer.cuid).count() == 1
