"""An editor uploads a new video from the chooser's "Upload" tab and uses it on the page.

Real parts end to end: headless Chromium on the live server; the browser posts a generated clip
straight to the sandbox's upload host; "Use this video" answers Wagtail's chosen step; the
block widget shows the title; the page publishes with a library ``KollusVideo``.
"""

from __future__ import annotations

import re

from wagtail.models import Page

from wagtail_kollus.models import KollusMedia, KollusVideo, VideoSource

TITLE = "Chooser upload clip"


def test_editor_uploads_from_the_chooser_and_uses_the_video(
    lifecycle,  # noqa: F811
    live_server,
    clip,  # noqa: F811
    settings,
):
    # Autosave is not under test, and across the long upload its draft save (and the move to
    # the edit URL) did not reliably happen; without it, publishing posts the creation form
    # itself, with no race against a draft save.
    settings.WAGTAIL_AUTOSAVE_INTERVAL = 0
    page = lifecycle
    home = Page.objects.get(depth=2)
    page.goto(f"{live_server.url}/admin/pages/add/testapp/videopage/{home.pk}/")
    page.fill("#id_title", "Uploaded from the chooser")
    page.locator("[data-streamfield-stream-container] button[title='Insert a block']").first.click()
    page.get_by_role("option", name="Kollus video").click()
    page.get_by_role("button", name="Choose a video").click()

    modal = page.locator(".modal-content")
    modal.get_by_role("tab", name="Upload").click()
    panel = modal.locator("[data-kollus-chooser-upload]")
    panel.wait_for(state="visible")
    assert "placeholder" in panel.inner_text()  # says a transcoding video can be used

    panel.locator("[data-kollus-upload-file]").set_input_files(str(clip))
    panel.locator("input[name=title]").fill(TITLE)
    panel.locator("[data-kollus-upload-start]").click()
    page.wait_for_function(
        "document.querySelector('.modal-content [data-kollus-upload-percent]')"
        ".textContent.trim() === '100 %'"
    )
    use = panel.get_by_role("link", name="Use this video")
    use.wait_for(state="visible")
    use.click()
    modal.wait_for(state="detached")

    chosen = page.locator("[data-chooser-title]").first
    assert chosen.inner_text().strip() == TITLE

    page.locator(".w-dropdown-button").get_by_role("button", name="More actions").click()
    page.locator("button[name='action-publish']").click()
    page.wait_for_url(re.compile(r"/admin/pages/\d+/"))
    assert page.console_errors == []

    media = KollusMedia.objects.get(title=TITLE)
    video = KollusVideo.objects.get(source=VideoSource.LIBRARY, media=media)
    published = Page.objects.get(title="Uploaded from the chooser", live=True).specific
    assert [block.value.video.pk for block in published.body] == [video.pk]
