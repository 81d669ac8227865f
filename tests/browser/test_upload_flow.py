"""An editor uploads a clip from the library's upload page: the browser posts the file straight
to the sandbox's upload host, the progress bar reaches 100 %, and the state turns "ready" once
the sandbox's callbacks have been processed by a real django-q2 cluster.

(The chooser modal's upload tab embeds the same form, ``includes/upload_form.html``.)
"""

from __future__ import annotations

from django.urls import reverse

from wagtail_kollus.media.states import STATE_DESCRIPTIONS
from wagtail_kollus.models import KollusMedia, MediaState
from wagtail_kollus.testing import wait_for


def test_upload_from_the_library_reaches_ready(lifecycle, live_server, clip, sandbox_live):
    page = lifecycle
    page.goto(live_server.url + reverse("kollus_media:add"))
    html = page.content()
    for secret in ("sandbox-access-token", "sandbox-security-key", "sandbox-account"):
        assert secret not in html

    page.set_input_files("[data-kollus-upload-file]", str(clip))
    page.fill("input[name=title]", "Generated clip")
    page.click("[data-kollus-upload-start]")

    page.wait_for_function(
        "document.querySelector('[data-kollus-upload-percent]').textContent.trim() === '100 %'"
    )
    assert page.eval_on_selector("[data-kollus-upload-bar]", "el => el.value") == 100
    assert page.locator("[data-kollus-upload-speed]").inner_text().endswith("/s")

    # At 100 % the page says what the state says, never "transcoding" while Kollus has not
    # confirmed the upload yet (one wording: wagtail_kollus.media.states).
    label = page.locator("[data-kollus-upload-state-label]")
    label.wait_for(state="visible")
    message = page.locator("[data-kollus-upload-message]")
    shown = {label.get_attribute("data-state"): message.inner_text()}
    page.wait_for_selector("[data-kollus-upload-state-label][data-state=ready]", timeout=40_000)
    assert message.inner_text() == str(STATE_DESCRIPTIONS[MediaState.READY])
    assert "w-status--primary" in label.get_attribute("class")
    for state, text in shown.items():
        assert text == str(STATE_DESCRIPTIONS[state]), (state, text)
    # The file is not sent twice: Upload comes back (enabled) when another file is chosen.
    start = page.locator("[data-kollus-upload-start]")
    assert start.is_hidden()
    assert page.eval_on_selector("[data-kollus-upload-file]", "el => el.files.length") == 0
    page.set_input_files("[data-kollus-upload-file]", str(clip))
    assert start.is_visible() and start.is_enabled()
    media = KollusMedia.objects.get(title="Generated clip")
    assert media.state == MediaState.READY
    assert media.original_file_size == clip.stat().st_size
    assert sandbox_live.state.media[media.upload_file_key]["original_file_size"] == clip.stat().st_size
    assert page.locator("[data-kollus-upload-error]").is_hidden()
    assert page.console_errors == []

    page.goto(live_server.url + reverse("kollus_media:index"))
    assert "Generated clip" in page.content()


def test_a_refused_upload_shows_a_clear_error(lifecycle, live_server, clip, sandbox_live):
    page = lifecycle
    sandbox_live.faults.set("kollus.upload_create_url", status=500, times=10)
    page.goto(live_server.url + reverse("kollus_media:add"))
    page.set_input_files("[data-kollus-upload-file]", str(clip))
    page.click("[data-kollus-upload-start]")
    error = page.locator("[data-kollus-upload-error]")
    error.wait_for(state="visible")
    assert "upload URL" in error.inner_text()
    assert page.locator("[data-kollus-upload-start]").is_enabled()
    assert KollusMedia.objects.get().state == MediaState.FAILED


def start_a_slow_upload(page, live_server, sandbox, clip, title):
    """Start an upload the upload host holds for a while, and wait until it is under way."""
    sandbox.faults.set("kollus.upload", latency=30, times=1)
    page.goto(live_server.url + reverse("kollus_media:add"))
    page.set_input_files("[data-kollus-upload-file]", str(clip))
    page.fill("input[name=title]", title)
    page.click("[data-kollus-upload-start]")
    page.locator("[data-kollus-upload-progress]").wait_for(state="visible")
    return wait_for(lambda: KollusMedia.objects.filter(title=title).first())


def test_cancel_clears_the_progress_and_leaves_no_row(admin_page, live_server, clip, sandbox_live):
    page = admin_page
    media = start_a_slow_upload(page, live_server, sandbox_live, clip, "cancel-me")
    page.click("[data-kollus-upload-cancel]")

    assert page.locator("[data-kollus-upload-progress]").is_hidden()
    assert page.locator("[data-kollus-upload-speed]").inner_text() == ""
    assert page.locator("[data-kollus-upload-eta]").inner_text() == ""
    assert page.locator("[data-kollus-upload-message]").inner_text() == "Upload cancelled."
    assert page.locator("[data-kollus-upload-start]").is_enabled()
    wait_for(lambda: not KollusMedia.objects.filter(pk=media.pk).exists())
    assert page.console_errors == []


def test_leaving_mid_upload_warns_and_leaves_no_row(admin_page, live_server, clip, sandbox_live):
    page = admin_page
    media = start_a_slow_upload(page, live_server, sandbox_live, clip, "left behind")
    with page.expect_event("dialog") as asked:
        page.close(run_before_unload=True)
    assert asked.value.type == "beforeunload"
    with page.expect_event("close"):
        asked.value.accept()
    # The page's beacon told the server: the row goes instead of staying "uploading".
    wait_for(lambda: not KollusMedia.objects.filter(pk=media.pk).exists())
