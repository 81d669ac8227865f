"""Helpers of the availability tests: which sandbox media play, choosing a video as the
chooser does, and what a viewer gets from a page, the ``{% kollus_player %}`` tag and the
token endpoint (plays, or is withdrawn)."""

from __future__ import annotations

import html
import itertools
import re

from django.template import engines
from django.urls import reverse

from tests.factories import make_page, video_block_data
from wagtail_kollus import player
from wagtail_kollus.models import KollusMedia, KollusVideo
from wagtail_kollus.sandbox.config import DEFAULT_CHANNEL_KEY

CHOSEN_ITEM = "kollus_video_chooser:chosen"
CHOSEN_LIBRARY = "kollus_video_chooser:chosen_library"
# One client address per token request keeps the endpoint's rate limits out of these tests.
_addresses = (f"198.51.100.{n % 250}" for n in itertools.count(1))


def ready_media(sandbox, count: int) -> list[dict]:
    """Seeded media that finished transcoding and play in the default channel."""
    with sandbox.state.lock:
        rows = [
            {"upload_file_key": m["upload_file_key"], "key": c["media_content_key"]}
            for m in sandbox.state.media.values()
            if m["stage"] == "completed"
            for c in m["channels"]
            if c["channel_key"] == DEFAULT_CHANNEL_KEY
        ]
    return rows[:count]



def choose_item(admin_client, content_id: int, item_id: int, language: str = "ko") -> KollusVideo:
    url = reverse(CHOSEN_ITEM, args=(f"{content_id}-{item_id}",)) + f"?language={language}"
    response = admin_client.get(url)
    assert response.status_code == 200, response.content[:300]
    return KollusVideo.objects.get(pk=response.json()["result"]["id"])


def choose_library(admin_client, media: KollusMedia) -> KollusVideo:
    response = admin_client.get(reverse(CHOSEN_LIBRARY), {"media": media.pk})
    assert response.status_code == 200, response.content[:300]
    return KollusVideo.objects.get(pk=response.json()["result"]["id"])



def render_tag(video: KollusVideo, **options: str) -> str:
    arguments = " ".join(f"{name}={value}" for name, value in options.items())
    template = engines["django"].from_string(
        "{% load kollus %}{% kollus_player video " + arguments + " %}"
    )
    return template.render({"video": KollusVideo.objects.get(pk=video.pk)})


def reference_in(markup: str) -> str:
    found = re.search(r'data-kollus-reference="([^"]+)"', markup)
    assert found, markup[:500]
    return html.unescape(found.group(1))


def token_status(client, reference: str) -> int:
    response = client.get(
        reverse("wagtail_kollus:player_token"),
        {"reference": reference},
        REMOTE_ADDR=next(_addresses),
    )
    return response.status_code


def assert_plays(client, page, video: KollusVideo, reference: str, key: str) -> None:
    """The page, the tag and the token endpoint all play ``video`` with ``key``."""
    row = KollusVideo.objects.select_related("media").get(pk=video.pk)
    assert row.is_available and row.is_playable
    assert row.media_content_key == key
    page_html = client.get(page.url).content.decode()
    assert "<iframe" in page_html and "data-kollus-unavailable" not in page_html
    tag = render_tag(video)
    assert "<iframe" in tag and "kollus-player--unavailable" not in tag
    assert player.load_reference(cache_safe_reference(video)).media_content_key == key
    assert token_status(client, reference) == 200


def assert_withdrawn(client, page, video: KollusVideo, reference: str) -> None:
    """The page and the tag show the placeholder, and the token endpoint answers 410."""
    row = KollusVideo.objects.select_related("media").get(pk=video.pk)
    assert not row.is_available and not row.is_playable
    page_html = client.get(page.url).content.decode()
    assert "data-kollus-unavailable" in page_html and "<iframe" not in page_html
    tag = render_tag(video)
    assert "kollus-player--unavailable" in tag and "<iframe" not in tag
    assert token_status(client, reference) == 410


def cache_safe_reference(video: KollusVideo) -> str:
    """The reference a cache-safe player rendered now holds (and a cached page keeps)."""
    return reference_in(render_tag(video, cache_safe="True"))


def on_a_page(video: KollusVideo) -> tuple:
    """A live page showing ``video``, and the reference a cached copy of it would hold."""
    page = make_page([video_block_data(video)], title=f"Page of video {video.pk}")
    return page, cache_safe_reference(video)

