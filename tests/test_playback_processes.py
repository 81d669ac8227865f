"""Withdrawn means withdrawn, across processes: a django-q2 worker's write is what the next
render and the next token request of another process see.

A Kollus transcoding callback for a library media is posted to the endpoint, and a forked
django-q2 worker re-reads the media from the sandbox's Kollus API (which now reports it failed)
and saves the row. This process, which rendered the page and minted a token before, must show
the unavailable placeholder on its next render and refuse the page's cached reference (410):
rendering and the token endpoint read the rows from the database, never from a per-process copy.
"""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.urls import reverse
from wagtail.models import Locale, Page, Site

from tests.factories import make_page, make_video, video_block_data
from wagtail_kollus.accounts import kollus_client
from wagtail_kollus.media.services import mirror_from_remote
from wagtail_kollus.models import (
    CallbackDelivery,
    DeliveryStatus,
    KollusMedia,
    MediaState,
    VideoSource,
)
from wagtail_kollus.testing import running_cluster, wait_for

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning"),
]


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


def page_reference(client, page) -> str:
    """The signed reference the page's cache-safe player holds."""
    html = client.get(page.url).content.decode()
    match = re.search(r'data-kollus-reference="([^"]+)"', html)
    assert match, html
    return html_lib.unescape(match.group(1))


def test_a_video_withdrawn_by_a_worker_process_stops_playing_here(kollus, client, settings):
    ensure_site()
    # A ready library media, mirrored from the sandbox so the worker's API re-read agrees.
    api = kollus_client()
    ufk = ready_sandbox_media(kollus)
    media = mirror_from_remote(ufk, api.get_media(ufk), client=api)
    assert media.state == MediaState.READY and media.media_content_key
    video = make_video(
        1, source=VideoSource.LIBRARY, media=media, media_content_key=media.media_content_key
    )
    page = make_page([video_block_data(video)], title="Across processes")
    token_url = reverse("wagtail_kollus:player_token")

    assert "<iframe" in client.get(page.url).content.decode()
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CACHE_SAFE_PLAYBACK": True}
    reference = page_reference(client, page)  # what a cached copy of the page would hold
    assert client.get(token_url, {"reference": reference}).status_code == 200

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
    # Nothing in this process wrote the row; its very next render and token request see it.
    html = client.get(page.url).content.decode()
    assert "data-kollus-unavailable" in html and "data-kollus-reference" not in html
    refused = client.get(token_url, {"reference": reference})
    assert refused.status_code == 410
    assert refused.json()["error"] == "unavailable"
