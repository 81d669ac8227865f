"""The video block through Wagtail's API v2 (a real router, tests/urls.py): what a headless
front end gets to play, for an allowed, a refused and an anonymous viewer, and never a secret."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from tests.factories import make_page, make_video, video_block_data
from tests.headless_support import BUYERS_ONLY, PREVIEW_SECONDS, claims_of
from wagtail_kollus.playback import load_reference
from wagtail_kollus.playback.viewer import user_viewer_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(settings):
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "PLAYBACK_POLICY": BUYERS_ONLY,
    }


@pytest.fixture
def lesson():
    return make_page([video_block_data(make_video(1))], title="Lesson")


@pytest.fixture
def buyer():
    user = User.objects.create_user("buyer", "b@example.com", "pw")
    user.groups.add(Group.objects.create(name="buyers"))
    return user


def page_api(client, page):
    response = client.get(f"/api/v2/pages/{page.pk}/")
    assert response.status_code == 200, response.content[:500]
    return response


def player_of(response) -> dict:
    return response.json()["body"][0]["value"]["player"]


def assert_private(response) -> None:
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def assert_no_secret(response) -> None:
    text = response.content.decode()
    for secret in ("sandbox-security-key", "sandbox-access-token", "sandbox-server-key",
                   "test-callback-token-0123456789"):
        assert secret not in text


def test_a_buyer_gets_a_player_url_minted_for_them(client, policy, lesson, buyer):
    client.force_login(buyer)
    response = page_api(client, lesson)
    player = player_of(response)
    assert player["mode"] == "minted" and player["access"] == "allow"
    assert player["message"] == "" and player["preview_seconds"] is None
    assert player["url"].startswith("http://127.0.0.1:9/player/s?jwt=")
    assert 0 < player["expires_in"] <= 300
    claims, query = claims_of(player["url"])
    assert claims["cuid"] == user_viewer_id(buyer.pk)
    assert claims["expt"] == player["expires_at"]
    assert claims["mc"][0]["mckey"] == "mckey0001" and "play_section" not in claims["mc"][0]
    assert "uservalue9" in query  # the play callback asks the policy again at play time
    assert_private(response)
    assert_no_secret(response)
    # The reference names the page, so the token endpoint asks about the same page.
    assert load_reference(player["reference"]).page_id == lesson.pk
    assert player["token_url"] == reverse("wagtail_kollus:player_token")
    refreshed = client.post(player["token_url"], {"reference": player["reference"]})
    assert refreshed.status_code == 200 and claims_of(refreshed.json()["url"])[0]["cuid"] == claims["cuid"]


def test_a_refused_viewer_gets_the_message_and_no_url(client, policy, lesson):
    client.force_login(User.objects.create_user("browser", "x@example.com", "pw"))
    response = page_api(client, lesson)
    player = player_of(response)
    assert player["access"] == "refuse" and player["url"] is None
    assert player["message"] == "Buy this course to watch it."
    assert player["expires_at"] is None and player["expires_in"] is None
    assert "jwt" not in response.content.decode()
    assert_private(response)
    # The reference cannot be turned into a URL by this viewer either.
    refused = client.post(player["token_url"], {"reference": player["reference"]})
    assert refused.status_code == 403
    assert refused.json()["message"] == "Buy this course to watch it."


def test_an_anonymous_viewer_gets_the_preview_and_a_viewer_cookie_not_a_session(
    client, policy, lesson
):
    response = page_api(client, lesson)
    player = player_of(response)
    assert player["access"] == "preview" and player["preview_seconds"] == PREVIEW_SECONDS
    claims, _ = claims_of(player["url"])
    assert claims["mc"][0]["play_section"] == {"start_time": 0, "end_time": PREVIEW_SECONDS}
    assert claims["cuid"].startswith("anon-")
    assert_private(response)
    # The anonymous viewer id is kept in the token endpoint's signed cookie: the same viewer
    # on the next call, and no session row per API call.
    assert "wagtail_kollus_viewer" in response.cookies
    assert "sessionid" not in response.cookies
    again = claims_of(player_of(page_api(client, lesson))["url"])[0]
    assert again["cuid"] == claims["cuid"]


def test_a_listing_asks_the_policy_about_each_page(client, policy, lesson):
    free = make_page([video_block_data(make_video(2))], title="Free taster")
    client.force_login(User.objects.create_user("browser", "x@example.com", "pw"))
    response = client.get("/api/v2/pages/", {"type": "testapp.VideoPage", "fields": "body"})
    assert response.status_code == 200
    access = {item["id"]: item["body"][0]["value"]["player"]["access"]
              for item in response.json()["items"]}
    assert access == {lesson.pk: "refuse", free.pk: "allow"}
    assert_private(response)


def test_cache_safe_playback_gives_everyone_the_same_cacheable_reference(
    client, settings, policy, lesson, buyer
):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CACHE_SAFE_PLAYBACK": True}
    anonymous = page_api(client, lesson)
    client.force_login(buyer)
    signed_in = page_api(client, lesson)
    player = player_of(signed_in)
    # The same for both (the reference is signed with the time: compare what it holds).
    assert load_reference(player_of(anonymous)["reference"]) == load_reference(player["reference"])
    assert load_reference(player["reference"]).page_id == lesson.pk
    assert set(player) == {"mode", "token_url", "reference"} and player["mode"] == "reference"
    assert "no-store" not in signed_in.get("Cache-Control", "")
    assert "jwt" not in signed_in.content.decode()
    # The viewer who asks the token endpoint is the one the policy decides for.
    minted = client.post(player["token_url"], {"reference": player["reference"]}).json()
    assert claims_of(minted["url"])[0]["cuid"] == user_viewer_id(buyer.pk)


def test_a_video_that_cannot_play_has_no_player(client, policy):
    page = make_page([video_block_data(make_video(3, is_available=False))], title="Gone")
    assert player_of(page_api(client, page)) is None


def test_a_plugin_without_keys_still_answers_with_the_reference(client, settings, policy, lesson):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "KOLLUS_SECURITY_KEY": ""}
    response = page_api(client, lesson)
    player = player_of(response)
    assert player["mode"] == "reference" and "url" not in player
    assert json.loads(response.content)["body"][0]["value"]["title"] == "Lesson 1"


def test_minting_for_many_videos_costs_no_query_per_video(client, buyer):
    """The default policy (page privacy) is asked once per page and request, not per video."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from wagtail.models import PageViewRestriction

    client.force_login(buyer)
    one = make_page([video_block_data(make_video(1))], title="One")
    many = make_page([video_block_data(make_video(n)) for n in range(2, 12)], title="Many")
    counts = []
    for page in (one, many):
        PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
        page_api(client, page)  # warm: sessions, content types
        with CaptureQueriesContext(connection) as queries:
            players = [block["value"]["player"] for block in page_api(client, page).json()["body"]]
        assert [player["access"] for player in players] == ["allow"] * len(players)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_minted_url_carries_the_sites_player_options_for_this_viewer(
    client, settings, policy, lesson, buyer
):
    """The same token as the HTML player's: e.g. the site's watermark with the buyer's e-mail."""
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYER_WATERMARK": {"code": "email"}}
    client.force_login(buyer)
    claims, _ = claims_of(player_of(page_api(client, lesson))["url"])
    assert claims["video_watermarking_code_policy"]["code_kind"] == "b@example.com"
