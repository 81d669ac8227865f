"""wagtail_kollus.video_cache across real processes: a django-q2 worker's write reaches the
copy another process keeps.

``test_video_cache.py`` simulates the other process with raw SQL. Here the other process is
real: a Kollus transcoding callback for a library media is posted to the endpoint, and a forked
django-q2 worker re-reads the media from the sandbox's Kollus API (which now reports it failed)
and saves the row. The test process, whose copy of the rows is warm and was never told about
the write, must show the unavailable placeholder on its next render.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import Locale, Page, Site

from tests.test_blocks import make_page, make_video, video_block_data
from tests.testapp.models import VideoPage
from wagtail_kollus import video_cache
from wagtail_kollus.api.vod import KollusClient
from wagtail_kollus.media.tasks import mirror_from_remote
from wagtail_kollus.models import (
    CallbackDelivery,
    DeliveryStatus,
    KollusMedia,
    MediaState,
    VideoSource,
)
from wagtail_kollus.sync.testing import running_cluster, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

GENERATION_TABLE = "wagtail_kollus_videorowsgeneration"


@pytest.fixture(autouse=True)
def _own_process_copy(monkeypatch):
    # This process's copy starts empty and the worker's own is restored afterwards.
    monkeypatch.setattr(video_cache, "_copies", {})


@pytest.fixture
def kollus(sandbox, settings):
    # Set before the cluster starts: its forked workers inherit these settings.
    settings.WAGTAIL_KOLLUS = sandbox.kollus_settings(
        KOLLUS_RATE_LIMIT_PER_SECOND=100, KOLLUS_RATE_LIMIT_PER_MINUTE=6000
    )
    return sandbox


def ensure_site() -> None:
    """A root, a home page and a default site: another transactional test may have flushed the
    tree Wagtail's migrations created (``make_page`` needs the home page, ``page.url`` a site)."""
    Locale.objects.get_or_create(language_code="en")
    if Page.objects.filter(depth=2).exists() and Site.objects.filter(is_default_site=True).exists():
        return
    root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root"))
    home = Page.objects.filter(depth=2).first() or root.add_child(instance=Page(title="Home"))
    Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)


def ready_sandbox_media(sandbox) -> str:
    """The upload file key of a seeded media the sandbox reports ready, in some channel."""
    with sandbox.state.lock:
        for ufk, row in sandbox.state.media.items():
            if row["stage"] == "completed" and row["channels"]:
                return ufk
    raise AssertionError("the sandbox seed has no ready media")


def fail_in_sandbox(sandbox, ufk: str) -> None:
    """What Kollus would report after a failed (re)transcoding of the media."""
    with sandbox.state.lock:
        sandbox.state.media[ufk]["stage"] = "failed"
        sandbox.state.changed()


def block_values(page_pk: int) -> tuple[list, list[dict]]:
    """The page's block values as a fresh request converts them, and the queries it took."""
    page = VideoPage.objects.get(pk=page_pk)
    with CaptureQueriesContext(connection) as ctx:
        values = [block.value for block in page.body]
    return values, ctx.captured_queries


def only_the_counter_was_read(queries: list[dict]) -> bool:
    return len(queries) == 1 and GENERATION_TABLE in queries[0]["sql"].lower()


def test_a_callback_processed_by_a_worker_process_reaches_this_process_copy(kollus, client):
    ensure_site()
    # A ready library media, mirrored from the sandbox so the worker's API re-read agrees.
    api = KollusClient.from_settings()
    ufk = ready_sandbox_media(kollus)
    media = mirror_from_remote(ufk, api.get_media(ufk), client=api)
    assert media.state == MediaState.READY and media.media_content_key
    video = make_video(
        1, source=VideoSource.LIBRARY, media=media, media_content_key=media.media_content_key
    )
    page = make_page([video_block_data(video)], title="Across processes")
    # Transactional tests flush the counter row; the saves above put it back. Without it every
    # load would query the rows and this test would prove nothing about the copy.
    before = video_cache.current_generation()
    assert before is not None

    html = client.get(page.url).content.decode()
    assert "<iframe" in html and "data-kollus-unavailable" not in html
    # Warm: this process serves the rows from its copy (the counter read alone).
    [value], queries = block_values(page.pk)
    assert value.is_playable
    assert only_the_counter_was_read(queries), queries
    assert "<iframe" in client.get(page.url).content.decode()
    assert video_cache._copies["default"].generation == before

    fail_in_sandbox(kollus, ufk)
    token = kollus.kollus_settings()["CALLBACK_TOKEN"]
    callback_url = reverse("wagtail_kollus:callback-transcoding", kwargs={"token": token})
    with running_cluster():
        response = client.post(
            callback_url,
            {
                "content_provider_key": kollus.kollus_settings()["KOLLUS_SERVICE_ACCOUNT_KEY"],
                "upload_file_key": ufk,
                "transcoding_result": "fail",
            },
        )
        assert response.status_code == 200
        delivery = wait_for(
            lambda: CallbackDelivery.objects.filter(
                upload_file_key=ufk, status=DeliveryStatus.PROCESSED
            ).first(),
            timeout=15,
            message="the worker did not process the callback",
        )
    assert delivery.kind == "transcoding"
    assert KollusMedia.objects.values_list("state", flat=True).get(pk=media.pk) == (
        MediaState.FAILED
    )
    # Nothing in this process wrote the rows: its copy is still the one it loaded...
    assert video_cache._copies["default"].generation == before
    # ...but the worker's save moved the counter, in the shared database.
    assert video_cache.current_generation() not in (None, before)

    html = client.get(page.url).content.decode()
    assert "data-kollus-unavailable" in html and "<iframe" not in html
    [value], queries = block_values(page.pk)
    assert value.video.media.state == MediaState.FAILED and not value.is_playable
    assert only_the_counter_was_read(queries), queries  # the copy was reloaded by the render
