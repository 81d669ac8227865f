"""The library's grid and posters as an editor uses them: select five cards in the grid and
refresh them in bulk (the real django-q2 cluster refreshes the queued ones from the sandbox),
and set a poster, then see it in the chooser's chosen widget of a page using the video.
"""

from __future__ import annotations

import json

from django.urls import reverse
from wagtail.models import Page

from tests.testapp.models import VideoPage
from wagtail_kollus.models import KollusMedia, MediaState
from wagtail_kollus.testing import ready_video, wait_for


def test_five_cards_selected_in_the_grid_are_refreshed_in_bulk(lifecycle, live_server, sandbox_live):
    with sandbox_live.state.lock:
        keys = [k for k, m in sandbox_live.state.media.items() if m["stage"] == "completed"][:5]
    media = [
        KollusMedia.objects.create(title=f"Stale {n}", upload_file_key=key, state=MediaState.TRANSCODING)
        for n, key in enumerate(keys)
    ]
    page = lifecycle
    page.goto(live_server.url + reverse("kollus_media:index") + "?layout=grid")
    grid = page.locator("[data-kollus-library-grid]")
    for row in media:
        grid.locator(f"[data-kollus-media='{row.pk}'] [data-bulk-action-checkbox]").check()
    footer = page.locator("[data-bulk-action-footer]")
    footer.wait_for(state="visible")
    footer.get_by_role("link", name="Refresh the selected videos from Kollus").click()
    page.wait_for_load_state()
    assert all(f"Stale {n}" in page.locator("[data-kollus-bulk-items]").inner_text() for n in range(5))
    page.get_by_role("button", name="Yes, refresh").click()
    page.wait_for_load_state()

    assert "5 videos will be refreshed from Kollus." in page.locator(".messages").inner_text()
    assert "data-kollus-library-grid" in page.content()  # back on the grid
    # One in the request, four by the cluster's workers.
    wait_for(
        lambda: KollusMedia.objects.filter(pk__in=[m.pk for m in media], state=MediaState.READY).count() == 5,
        timeout=60,
    )
    assert page.console_errors == []


def test_a_poster_set_in_the_library_shows_in_the_chosen_widget(admin_page, live_server, sandbox_live):
    video = ready_video(sandbox_live, title="Poster in widget")
    media = video.media
    home = Page.objects.get(depth=2)
    article = home.add_child(
        instance=VideoPage(
            title="Has a video", body=json.dumps([{"type": "video", "value": {"video": video.pk}}])
        )
    )
    page = admin_page
    page.goto(live_server.url + reverse("kollus_media:edit", args=(media.pk,)))
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Set poster").click()
    page.wait_for_load_state()
    frames = page.locator("[data-kollus-poster-frames] input[type=radio]")
    assert frames.count() == 4
    frames.nth(2).check()
    page.get_by_role("button", name="Set poster").click()
    page.wait_for_load_state()
    assert "was changed" in page.locator(".messages").inner_text()

    media.refresh_from_db()
    assert media.poster_url.endswith("?v=1")
    page.goto(live_server.url + reverse("wagtailadmin_pages:edit", args=(article.pk,)))
    poster = page.locator(".kollus-video-chooser [data-chooser-image]").first
    poster.wait_for()
    assert poster.get_attribute("src") == media.poster_url
    # The image the widget shows is the frame the editor picked, served by Kollus (the sandbox).
    loaded = page.evaluate(
        "(img) => img.complete && img.naturalWidth > 0", poster.element_handle()
    )
    assert loaded
    assert page.console_errors == []
