"""``wagtail_kollus.testing``, the helpers site developers test their pages with (the docs'
examples of it run in ``test_docs_examples.py``)."""

from __future__ import annotations

import pytest

from tests.factories import make_course, publish
from tests.sync_support import SYNC_TEST_SETTINGS, configure
from wagtail_kollus.models import MediaState, VideoSource
from wagtail_kollus.testing import ready_video, sync_now

pytestmark = pytest.mark.django_db


def test_ready_video_is_a_library_video_of_a_media_the_sandbox_serves(sandbox):
    video = ready_video(sandbox, title="Welcome")
    assert video.source == VideoSource.LIBRARY and video.is_playable
    assert video.media.state == MediaState.READY
    assert video.media_content_key == video.media.media_content_key
    with sandbox.state.lock:
        remote = sandbox.state.media[video.media.upload_file_key]
    assert video.media_content_key in {c["media_content_key"] for c in remote["channels"]}
    assert sandbox.request_count("kollus.*") >= 1  # read back over HTTP, not invented


def test_sync_now_pushes_a_published_page_in_this_process(sandbox, settings):
    configure(settings, **SYNC_TEST_SETTINGS)
    page = publish(make_course(title="Synced now"))
    link = sync_now(page)
    assert link.state == "synced" and link.content_id is not None
    record = sandbox.state.render_content(sandbox.state.contents[link.content_id])
    assert record["title"] == "Synced now"
    assert sandbox.request_count("contents.create") == 1
