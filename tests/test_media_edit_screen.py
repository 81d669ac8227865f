"""The video edit screen, as Wagtail's image edit screen: the form beside a preview (a signed
player once ready, else the poster), the state with its reason, and the details; the status
side panel says the video's state (never Wagtail's "Live") and counts its real usage.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import page_using
from wagtail_kollus.media.states import STATE_DESCRIPTIONS, TRANSCODING_FAILED
from wagtail_kollus.models import KollusMedia, MediaState
from wagtail_kollus.player import load_reference


@pytest.fixture
def ready(db) -> KollusMedia:
    return KollusMedia.objects.create(
        title="Welcome tour",
        upload_file_key="ufk-welcome",
        state=MediaState.READY,
        duration_seconds=3725,
        original_file_name="welcome.mp4",
        original_file_size=3 * 1024 * 1024,
        poster_url="http://posters.example/welcome.jpg",
        media_content_key="mck-welcome",
        channels=[
            {"channel_key": "ch-main", "channel_name": "Main", "media_content_key": "mck-welcome"},
            {"channel_key": "ch-2", "channel_name": "Secure", "media_content_key": "mck-other"},
        ],
    )


def edit_page(client, media: KollusMedia) -> str:
    response = client.get(reverse("kollus_media:edit", args=(media.pk,)))
    assert response.status_code == 200
    return response.content.decode()


def status_panel(html: str) -> str:
    found = re.search(r'data-side-panel="status".*?</aside>', html, re.S)
    assert found, "no status side panel"
    return found.group(0)


@pytest.mark.django_db
def test_a_ready_video_shows_a_player_its_state_and_details(admin_client, sandbox, ready):
    html = edit_page(admin_client, ready)
    # A player for the playback key, cache-safe: the page holds a signed reference and the
    # browser asks the token endpoint for the player URL (which carries the custom key).
    reference = re.search(r'data-kollus-reference="([^"]+)"', html).group(1)
    assert load_reference(reference).media_content_key == "mck-welcome"
    for secret in ("sandbox-security-key", "sandbox-access-token", "sandbox-custom-key"):
        assert secret not in html
    assert str(STATE_DESCRIPTIONS[MediaState.READY]) in html
    assert 'class="w-status w-status--primary"' in html
    for fact in ("1:02:05", "3.0\xa0MB", "welcome.mp4", "ufk-welcome", "mck-welcome", "mck-other",
                 "used for playback", "Used in 0 places"):
        assert fact in html, fact
    # The form is still the form: title and category, saved as before.
    assert 'name="title"' in html and 'name="category_key"' in html


@pytest.mark.django_db
def test_the_status_panel_says_the_state_not_live(admin_client, ready):
    KollusMedia.objects.filter(pk=ready.pk).update(state=MediaState.UPLOADING)
    ready.refresh_from_db()
    panel = status_panel(edit_page(admin_client, ready))
    assert "Uploading" in panel
    assert str(STATE_DESCRIPTIONS[MediaState.UPLOADING]) in panel
    assert "Live" not in panel


@pytest.mark.django_db
def test_a_failed_video_shows_why_and_no_player(admin_client, ready):
    KollusMedia.objects.filter(pk=ready.pk).update(state=MediaState.FAILED, media_content_key="")
    ready.refresh_from_db()
    html = edit_page(admin_client, ready)
    assert "<iframe" not in html
    assert html.count(str(TRANSCODING_FAILED)) == 2  # beside the form and in the status panel
    assert "help-critical" in html
    assert str(TRANSCODING_FAILED) in status_panel(html)


@pytest.mark.django_db
def test_usage_counts_pages_through_chosen_videos(admin_client, ready):
    page_using(ready)
    html = edit_page(admin_client, ready)
    assert "Used in 1 place" in html
    assert "Used 1 time" in status_panel(html)  # Wagtail counted references to the media: 0
