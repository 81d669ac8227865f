"""The library's POST actions as an editor clicks them: the row's "Refresh from Kollus" and the
header's "Refresh all stuck videos" reach their views (they used to post to the listing URL
and open Chrome's "HTTP ERROR 405"), the rows change, and the editor reads a message on the
page they came from. "Usage" (listed in docs/media.md) is a row action too.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from wagtail_kollus.models import KollusMedia, MediaState


@pytest.fixture
def remote_ready(sandbox_live):
    """The upload file key of a media the sandbox has ready, in the default channel."""
    with sandbox_live.state.lock:
        return next(
            ufk
            for ufk, row in sandbox_live.state.media.items()
            if row["stage"] == "completed" and row["channels"] and not row.get("is_audio")
        )


# The rows' own menus are in the list layout (the grid of posters is the default).
LIST = "?layout=list"


def open_row_menu(page, title: str) -> None:
    row = page.locator("tr", has_text=title)
    row.locator("[data-w-dropdown-target=toggle]").click()


def test_row_refresh_updates_the_video_and_says_so(admin_page, live_server, remote_ready):
    media = KollusMedia.objects.create(
        title="Stale row", upload_file_key=remote_ready, state=MediaState.TRANSCODING
    )
    page = admin_page
    page.goto(live_server.url + reverse("kollus_media:index") + LIST + "&ordering=title")
    open_row_menu(page, "Stale row")
    page.get_by_role("link", name="Refresh from Kollus").click()
    page.wait_for_load_state()

    assert page.url.endswith(reverse("kollus_media:index") + LIST + "&ordering=title"), page.url
    assert "refreshed from Kollus" in page.locator(".messages").inner_text()
    media.refresh_from_db()
    assert media.state == MediaState.READY
    assert media.title != "Stale row"  # Kollus's title wins
    assert page.console_errors == []


def test_header_refresh_stuck_probes_kollus_and_says_so(admin_page, live_server, remote_ready):
    media = KollusMedia.objects.create(
        title="Stuck row", upload_file_key=remote_ready, state=MediaState.UPLOADING
    )
    KollusMedia.objects.filter(pk=media.pk).update(created_at=timezone.now() - timedelta(days=1))
    page = admin_page
    page.goto(live_server.url + reverse("kollus_media:index"))
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Refresh all stuck videos").click()
    page.wait_for_load_state()

    assert "1 stuck video will be refreshed from Kollus." in page.locator(".messages").inner_text()
    media.refresh_from_db()
    assert media.state == MediaState.READY  # the first one is read in the request
    assert page.console_errors == []


def test_refresh_failure_is_a_message_not_an_error_page(admin_page, live_server, remote_ready, sandbox_live):
    KollusMedia.objects.create(title="Unlucky", upload_file_key=remote_ready, state=MediaState.TRANSCODING)
    sandbox_live.faults.set("kollus.media_detail", status=503, times=10)
    page = admin_page
    page.goto(live_server.url + reverse("kollus_media:index") + LIST)
    open_row_menu(page, "Unlucky")
    page.get_by_role("link", name="Refresh from Kollus").click()
    page.wait_for_load_state()

    message = page.locator(".messages").inner_text()
    assert "'Unlucky' could not be refreshed from Kollus" in message and "503" in message
    assert KollusMedia.objects.get(title="Unlucky").state == MediaState.TRANSCODING


def test_usage_is_a_row_action(admin_page, live_server):
    media = KollusMedia.objects.create(title="Used somewhere", state=MediaState.READY)
    page = admin_page
    page.goto(live_server.url + reverse("kollus_media:index") + LIST)
    open_row_menu(page, "Used somewhere")
    page.get_by_role("link", name="Usage").click()
    page.wait_for_url(live_server.url + reverse("kollus_media:usage", args=(media.pk,)))
    assert "Used somewhere" in page.locator("main").inner_text()


def test_edit_screen_previews_the_video_and_refreshes_in_place(admin_page, live_server, remote_ready, sandbox_live):
    with sandbox_live.state.lock:
        mckey = sandbox_live.state.media[remote_ready]["channels"][0]["media_content_key"]
    media = KollusMedia.objects.create(
        title="Preview me", upload_file_key=remote_ready, state=MediaState.READY,
        media_content_key=mckey, duration_seconds=75,
    )
    edit_url = live_server.url + reverse("kollus_media:edit", args=(media.pk,))
    page = admin_page
    page.goto(edit_url)

    # The player preview is the real (sandbox) player, signed for this editor.
    frame = page.frame_locator("[data-kollus-media-preview] iframe")
    frame.locator("[data-sandbox-player='ok']").wait_for()
    assert page.locator("[data-kollus-media-state]").get_attribute("data-kollus-media-state") == "ready"
    assert "1:15" in page.locator("[data-kollus-media-facts]").inner_text()

    page.get_by_role("button", name="Toggle status").click()
    panel = page.locator("[data-side-panel='status']")
    panel.wait_for(state="visible")
    assert "Ready" in panel.inner_text() and "Live" not in panel.inner_text()

    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Refresh from Kollus").click()
    page.wait_for_load_state()
    assert page.url == edit_url
    assert "refreshed from Kollus" in page.locator(".messages").inner_text()
    assert page.console_errors == []
