"""The video block through wagtail-grapple (the optional [graphql] extra): a GraphQL query for a
page's videos returns a playable URL for an allowed viewer and none for a refused one."""

from __future__ import annotations

import pytest

pytest.importorskip("grapple", reason="the optional [graphql] extra is not installed")

import requests  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402

from tests.factories import make_page, make_video, video_block_data  # noqa: E402
from tests.headless_support import BUYERS_ONLY, PREVIEW_SECONDS, claims_of  # noqa: E402
from tests.playback_support import ready_media  # noqa: E402
from wagtail_kollus.playback import load_reference  # noqa: E402
from wagtail_kollus.playback.viewer import user_viewer_id  # noqa: E402

pytestmark = pytest.mark.django_db

QUERY = """
query Videos($id: ID!) {
  page(id: $id) {
    ... on VideoPage {
      body {
        blockType
        ... on KollusVideoBlock {
          title posterUrl durationSeconds videoId isPlayable
          player { mode access url expiresAt expiresIn previewSeconds message reference tokenUrl }
        }
      }
    }
  }
}
"""


@pytest.fixture
def policy(sandbox, settings):
    # After the sandbox fixture's settings: minted URLs point at its (real, HTTP) player.
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "PLAYBACK_POLICY": BUYERS_ONLY,
    }


@pytest.fixture
def lesson(sandbox):
    key = ready_media(sandbox, 1)[0]["key"]  # a media the sandbox's player knows
    return make_page(
        [video_block_data(make_video(1, media_content_key=key)),
         {"type": "paragraph", "value": "<p>Notes</p>"}],
        title="Lesson",
    )


def videos(client, page) -> list[dict]:
    response = client.post(
        "/graphql/", {"query": QUERY, "variables": {"id": page.pk}}, content_type="application/json"
    )
    assert response.status_code == 200, response.content[:500]
    data = response.json()
    assert "errors" not in data, data["errors"]
    return [block for block in data["data"]["page"]["body"] if block["blockType"] == "KollusVideoBlock"]


def test_an_allowed_viewer_gets_a_playable_url(client, policy, lesson):
    buyer = User.objects.create_user("buyer", "b@example.com", "pw")
    buyer.groups.add(Group.objects.create(name="buyers"))
    client.force_login(buyer)
    [video] = videos(client, lesson)
    assert video["title"] == "Lesson 1" and video["isPlayable"] and video["durationSeconds"] == 61
    assert video["posterUrl"] == "https://img.example.com/1.jpg"
    player = video["player"]
    assert player["mode"] == "minted" and player["access"] == "allow"
    claims, query = claims_of(player["url"])
    assert claims["cuid"] == user_viewer_id(buyer.pk) and claims["expt"] == player["expiresAt"]
    assert "uservalue9" in query
    # Playable: the sandbox's player verifies the token as Kollus does, and plays it in full.
    played = requests.get(player["url"], timeout=10).text
    assert "data-sandbox-player='ok'" in played and "data-play='full'" in played
    # The middleware told the policy which page the video is on (it refuses without one).
    assert load_reference(player["reference"]).page_id == lesson.pk


def test_a_refused_viewer_gets_no_url_but_the_message(client, policy, lesson):
    client.force_login(User.objects.create_user("browser", "x@example.com", "pw"))
    [video] = videos(client, lesson)
    player = video["player"]
    assert player["access"] == "refuse" and player["url"] is None
    assert player["message"] == "Buy this course to watch it."


def test_an_anonymous_viewer_gets_the_preview(client, policy, lesson):
    [video] = videos(client, lesson)
    player = video["player"]
    assert player["access"] == "preview" and player["previewSeconds"] == PREVIEW_SECONDS
    claims, _ = claims_of(player["url"])
    assert claims["mc"][0]["play_section"] == {"start_time": 0, "end_time": PREVIEW_SECONDS}
    assert "data-play='preview'" in requests.get(player["url"], timeout=10).text


def test_cache_safe_playback_answers_the_reference_only(client, settings, policy, lesson):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CACHE_SAFE_PLAYBACK": True}
    [video] = videos(client, lesson)
    player = video["player"]
    assert player["mode"] == "reference" and player["url"] is None and player["access"] is None
    assert player["tokenUrl"] == "/kollus/player/token/" and player["reference"]
