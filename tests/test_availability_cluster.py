"""Withdrawn means withdrawn, on the real processes: the sandbox sends its platform callbacks
to the live server, a real django-q2 cluster processes them, and the page and the token
endpoint (another process's view of the database) refuse the video on the next request.
"""

from __future__ import annotations

import pytest

from tests.playback_support import (
    assert_plays,
    assert_withdrawn,
    cache_safe_reference,
    choose_library,
    on_a_page,
    ready_media,
)
from wagtail_kollus.accounts import kollus_client
from wagtail_kollus.media import tasks
from wagtail_kollus.models import KollusMedia, KollusVideo, MediaState
from wagtail_kollus.sandbox.config import DEFAULT_CHANNEL_KEY
from wagtail_kollus.testing import point_callbacks_at, running_cluster, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def kollus(sandbox, settings, live_server):
    point_callbacks_at(sandbox, live_server.url, settings)
    with running_cluster():
        yield sandbox
        # Drop callbacks still scheduled, so no worker writes while the test database is flushed.
        sandbox.reset()


@pytest.fixture
def vod(kollus):
    client = kollus_client()
    yield client
    client.close()


def library_video_on_a_page(admin_client, upload_file_key: str) -> tuple:
    media = KollusMedia.objects.create(title="Seeded", upload_file_key=upload_file_key)
    assert tasks.refresh_media(media.pk) == "refreshed"
    media.refresh_from_db()
    assert media.state == MediaState.READY
    video = choose_library(admin_client, media)
    page, reference = on_a_page(video)
    return video, page, reference


def available(video: KollusVideo) -> bool:
    return KollusVideo.objects.values_list("is_available", flat=True).get(pk=video.pk)


def test_a_media_deleted_in_the_kollus_console_stops_playing(admin_client, client, kollus, vod):
    seeded = ready_media(kollus, 1)[0]
    video, page, reference = library_video_on_a_page(admin_client, seeded["upload_file_key"])
    assert_plays(client, page, video, reference, seeded["key"])

    vod.delete_media(seeded["upload_file_key"])  # Kollus sends channel-delete callbacks

    wait_for(lambda: not available(video), timeout=30)
    assert_withdrawn(client, page, video, reference)


def test_a_media_taken_out_of_the_channel_and_back_follows_the_callbacks(
    admin_client, client, kollus, vod
):
    seeded = ready_media(kollus, 1)[0]
    ufk = seeded["upload_file_key"]
    video, page, reference = library_video_on_a_page(admin_client, ufk)

    vod.detach_from_channel(DEFAULT_CHANNEL_KEY, ufk)
    wait_for(lambda: not available(video), timeout=30)
    assert_withdrawn(client, page, video, reference)

    vod.attach_to_channel(DEFAULT_CHANNEL_KEY, ufk)
    wait_for(lambda: available(video), timeout=30)
    new_key = KollusVideo.objects.get(pk=video.pk).media_content_key
    assert new_key and new_key != seeded["key"]
    assert_plays(client, page, video, cache_safe_reference(video), new_key)
